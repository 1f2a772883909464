/* The common Linux program types: context layouts, the Linux helpers each may call, SEC() names. */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>

#include "ebpf_platform.h"
#include "ebpf_verifier.h"

/* Which program types offer a helper. */
enum {
    GROUP_BASE = 1u << 0,    /* every type */
    GROUP_TRACING = 1u << 1, /* kprobe, tracepoint, raw_tracepoint, perf_event */
    GROUP_SKB = 1u << 2,     /* socket_filter, sched_cls/act, cgroup_skb */
    GROUP_TC = 1u << 3,      /* sched_cls, sched_act */
    GROUP_XDP = 1u << 4,
    GROUP_SOCK_OPS = 1u << 5,
    GROUP_CGROUP_SKB = 1u << 6,
    GROUP_PERF_EVENT = 1u << 7,
    GROUP_KPROBE = 1u << 8,
};

typedef struct linux_helper {
    ebpf_helper_prototype_t prototype;
    uint32_t groups;
    bool changes_packet;
    bool is_tail_call;
} linux_helper_t;

#define HELPER(groups_, id_, return_, ...)                                                         \
    {                                                                                              \
        {EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),            \
         BPF_FUNC_##id_,                                                                           \
         "bpf_" #id_,                                                                              \
         return_,                                                                                  \
         {__VA_ARGS__},                                                                            \
         false,                                                                                    \
         false},                                                                                   \
            (groups_), false, false                                                                \
    }
#define PACKET_HELPER(groups_, id_, return_, ...)                                                  \
    {                                                                                              \
        {EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),            \
         BPF_FUNC_##id_,                                                                           \
         "bpf_" #id_,                                                                              \
         return_,                                                                                  \
         {__VA_ARGS__},                                                                            \
         true,                                                                                     \
         false},                                                                                   \
            (groups_), true, false                                                                 \
    }

#define INT    EBPF_RET_INTEGER
#define VOID   EBPF_RET_VOID
#define ANY    EBPF_ARG_ANYTHING
#define CTX    EBPF_ARG_PTR_TO_CTX
#define MAP    EBPF_ARG_CONST_PTR_TO_MAP
#define KEY    EBPF_ARG_PTR_TO_MAP_KEY
#define VALUE  EBPF_ARG_PTR_TO_MAP_VALUE
#define SIZE   EBPF_ARG_CONST_SIZE
#define SIZE0  EBPF_ARG_CONST_SIZE_OR_ZERO
#define READ   EBPF_ARG_PTR_TO_READABLE_MEM
#define WRITE  EBPF_ARG_PTR_TO_WRITABLE_MEM
#define TC_XDP (GROUP_TC | GROUP_XDP)

static const linux_helper_t linux_helpers[] = {
    HELPER(GROUP_BASE, map_lookup_elem, EBPF_RET_PTR_TO_MAP_VALUE_OR_NULL, MAP, KEY),
    HELPER(GROUP_BASE, map_update_elem, INT, MAP, KEY, VALUE, ANY),
    HELPER(GROUP_BASE, map_delete_elem, INT, MAP, KEY),
    HELPER(GROUP_BASE, map_push_elem, INT, MAP, VALUE, ANY),
    HELPER(GROUP_BASE, map_pop_elem, INT, MAP, EBPF_ARG_PTR_TO_UNINIT_MAP_VALUE),
    HELPER(GROUP_BASE, map_peek_elem, INT, MAP, EBPF_ARG_PTR_TO_UNINIT_MAP_VALUE),
    HELPER(GROUP_BASE, ktime_get_ns, INT),
    HELPER(GROUP_BASE, ktime_get_boot_ns, INT),
    HELPER(GROUP_BASE, ktime_get_coarse_ns, INT),
    HELPER(GROUP_BASE, jiffies64, INT),
    HELPER(GROUP_BASE, get_prandom_u32, INT),
    HELPER(GROUP_BASE, get_smp_processor_id, INT),
    HELPER(GROUP_BASE, get_numa_node_id, INT),
    HELPER(GROUP_BASE, trace_printk, INT, READ, SIZE),
    HELPER(GROUP_BASE, ringbuf_output, INT, MAP, READ, SIZE0, ANY),
    HELPER(GROUP_BASE, ringbuf_reserve, EBPF_RET_PTR_TO_ALLOC_MEM_OR_NULL, MAP,
           EBPF_ARG_CONST_ALLOC_SIZE_OR_ZERO, ANY),
    HELPER(GROUP_BASE, ringbuf_submit, VOID, EBPF_ARG_PTR_TO_ALLOC_MEM, ANY),
    HELPER(GROUP_BASE, ringbuf_discard, VOID, EBPF_ARG_PTR_TO_ALLOC_MEM, ANY),
    HELPER(GROUP_BASE, ringbuf_query, INT, MAP, ANY),
    HELPER(GROUP_BASE, perf_event_output, INT, CTX, MAP, ANY, READ, SIZE0),
    HELPER(GROUP_BASE, probe_read_kernel, INT, WRITE, SIZE0, ANY),
    HELPER(GROUP_BASE, probe_read_kernel_str, INT, WRITE, SIZE0, ANY),
    {{EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),
      BPF_FUNC_tail_call,
      "bpf_tail_call",
      INT,
      {CTX, MAP, ANY},
      false,
      true},
     GROUP_BASE,
     false,
     true},

    HELPER(GROUP_TRACING, probe_read, INT, WRITE, SIZE0, ANY),
    HELPER(GROUP_TRACING, probe_read_str, INT, WRITE, SIZE0, ANY),
    HELPER(GROUP_TRACING, probe_read_user, INT, WRITE, SIZE0, ANY),
    HELPER(GROUP_TRACING, probe_read_user_str, INT, WRITE, SIZE0, ANY),
    HELPER(GROUP_TRACING, get_current_pid_tgid, INT),
    HELPER(GROUP_TRACING, get_current_uid_gid, INT),
    HELPER(GROUP_TRACING, get_current_comm, INT, WRITE, SIZE),
    HELPER(GROUP_TRACING, get_current_task, INT),
    HELPER(GROUP_TRACING, get_current_cgroup_id, INT),
    HELPER(GROUP_TRACING, get_current_ancestor_cgroup_id, INT, ANY),
    HELPER(GROUP_TRACING, get_stackid, INT, CTX, MAP, ANY),
    HELPER(GROUP_TRACING, get_stack, INT, CTX, WRITE, SIZE0, ANY),
    HELPER(GROUP_TRACING, perf_event_read, INT, MAP, ANY),
    HELPER(GROUP_TRACING, perf_event_read_value, INT, MAP, ANY, WRITE, SIZE),
    HELPER(GROUP_TRACING, send_signal, INT, ANY),
    HELPER(GROUP_TRACING, send_signal_thread, INT, ANY),
    HELPER(GROUP_TRACING, current_task_under_cgroup, INT, MAP, ANY),
    HELPER(GROUP_KPROBE, override_return, INT, CTX, ANY),
    HELPER(GROUP_PERF_EVENT, perf_prog_read_value, INT, CTX, WRITE, SIZE),

    HELPER(GROUP_SKB, skb_load_bytes, INT, CTX, ANY, WRITE, SIZE),
    HELPER(GROUP_SKB, skb_load_bytes_relative, INT, CTX, ANY, WRITE, SIZE, ANY),
    HELPER(GROUP_SKB | GROUP_SOCK_OPS, get_socket_cookie, INT, CTX),
    HELPER(GROUP_SKB, get_socket_uid, INT, CTX),
    HELPER(GROUP_TC | GROUP_CGROUP_SKB, skb_cgroup_id, INT, CTX),
    HELPER(GROUP_TC | GROUP_CGROUP_SKB, skb_ecn_set_ce, INT, CTX),

    PACKET_HELPER(GROUP_TC, skb_store_bytes, INT, CTX, ANY, READ, SIZE, ANY),
    PACKET_HELPER(GROUP_TC, l3_csum_replace, INT, CTX, ANY, ANY, ANY, ANY),
    PACKET_HELPER(GROUP_TC, l4_csum_replace, INT, CTX, ANY, ANY, ANY, ANY),
    HELPER(TC_XDP, csum_diff, INT, EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL, SIZE0,
           EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL, SIZE0, ANY),
    HELPER(GROUP_TC, csum_update, INT, CTX, ANY),
    HELPER(GROUP_TC, csum_level, INT, CTX, ANY),
    HELPER(GROUP_TC, clone_redirect, INT, CTX, ANY, ANY),
    HELPER(TC_XDP, redirect, INT, ANY, ANY),
    HELPER(GROUP_TC, get_cgroup_classid, INT, CTX),
    HELPER(GROUP_TC, get_route_realm, INT, CTX),
    HELPER(GROUP_TC, get_hash_recalc, INT, CTX),
    HELPER(GROUP_TC, set_hash_invalid, INT, CTX),
    HELPER(GROUP_TC, set_hash, INT, CTX, ANY),
    PACKET_HELPER(GROUP_TC, skb_vlan_push, INT, CTX, ANY, ANY),
    PACKET_HELPER(GROUP_TC, skb_vlan_pop, INT, CTX),
    HELPER(GROUP_TC, skb_get_tunnel_key, INT, CTX, WRITE, SIZE, ANY),
    HELPER(GROUP_TC, skb_set_tunnel_key, INT, CTX, READ, SIZE, ANY),
    PACKET_HELPER(GROUP_TC, skb_change_proto, INT, CTX, ANY, ANY),
    HELPER(GROUP_TC, skb_change_type, INT, CTX, ANY),
    PACKET_HELPER(GROUP_TC, skb_change_tail, INT, CTX, ANY, ANY),
    PACKET_HELPER(GROUP_TC, skb_change_head, INT, CTX, ANY, ANY),
    PACKET_HELPER(GROUP_TC, skb_pull_data, INT, CTX, ANY),
    PACKET_HELPER(GROUP_TC, skb_adjust_room, INT, CTX, ANY, ANY, ANY),
    HELPER(GROUP_TC, skb_under_cgroup, INT, CTX, MAP, ANY),
    HELPER(TC_XDP, fib_lookup, INT, CTX, WRITE, SIZE, ANY),

    PACKET_HELPER(GROUP_XDP, xdp_adjust_head, INT, CTX, ANY),
    PACKET_HELPER(GROUP_XDP, xdp_adjust_meta, INT, CTX, ANY),
    PACKET_HELPER(GROUP_XDP, xdp_adjust_tail, INT, CTX, ANY),
    HELPER(GROUP_XDP, redirect_map, INT, MAP, ANY, ANY),
    HELPER(GROUP_XDP, xdp_load_bytes, INT, CTX, ANY, WRITE, SIZE),
    HELPER(GROUP_XDP, xdp_store_bytes, INT, CTX, ANY, READ, SIZE),
    HELPER(GROUP_XDP, xdp_get_buff_len, INT, CTX),

    HELPER(GROUP_SOCK_OPS, setsockopt, INT, CTX, ANY, ANY, READ, SIZE),
    HELPER(GROUP_SOCK_OPS, getsockopt, INT, CTX, ANY, ANY, WRITE, SIZE),
    HELPER(GROUP_SOCK_OPS, sock_ops_cb_flags_set, INT, CTX, ANY),
    HELPER(GROUP_SOCK_OPS, sock_map_update, INT, CTX, MAP, KEY, ANY),
    HELPER(GROUP_SOCK_OPS, sock_hash_update, INT, CTX, MAP, KEY, ANY),
    HELPER(GROUP_SOCK_OPS, load_hdr_opt, INT, CTX, WRITE, SIZE, ANY),
    HELPER(GROUP_SOCK_OPS, store_hdr_opt, INT, CTX, READ, SIZE, ANY),
    HELPER(GROUP_SOCK_OPS, reserve_hdr_opt, INT, CTX, ANY, ANY),
};

/* ---- context layouts ---- */

#define FIELD(type_, field_, access_, kind_)                                                       \
    {                                                                                              \
#field_, offsetof(type_, field_), sizeof(((type_ *)0)->field_), 1, (access_), (kind_)      \
    }
#define ARRAY(type_, field_, access_)                                                              \
    {                                                                                              \
#field_, offsetof(type_, field_), sizeof(((type_ *)0)->field_[0]),                         \
            sizeof(((type_ *)0)->field_) / sizeof(((type_ *)0)->field_[0]), (access_),             \
            EBPF_CONTEXT_FIELD_SCALAR                                                              \
    }

#define R      (EBPF_CONTEXT_FIELD_READ | EBPF_CONTEXT_FIELD_NARROW_READ)
#define RW     (R | EBPF_CONTEXT_FIELD_WRITE)
#define PTR    EBPF_CONTEXT_FIELD_READ
#define SCALAR EBPF_CONTEXT_FIELD_SCALAR

static const ebpf_verifier_context_field_t xdp_fields[] = {
    FIELD(struct xdp_md, data, PTR, EBPF_CONTEXT_FIELD_DATA),
    FIELD(struct xdp_md, data_end, PTR, EBPF_CONTEXT_FIELD_DATA_END),
    FIELD(struct xdp_md, data_meta, PTR, EBPF_CONTEXT_FIELD_DATA_META),
    FIELD(struct xdp_md, ingress_ifindex, R, SCALAR),
    FIELD(struct xdp_md, rx_queue_index, R, SCALAR),
    FIELD(struct xdp_md, egress_ifindex, R, SCALAR),
};

#define SKB_COMMON_FIELDS                                                                          \
    FIELD(struct __sk_buff, len, R, SCALAR), FIELD(struct __sk_buff, pkt_type, R, SCALAR),         \
        FIELD(struct __sk_buff, protocol, R, SCALAR),                                              \
        FIELD(struct __sk_buff, vlan_present, R, SCALAR),                                          \
        FIELD(struct __sk_buff, vlan_tci, R, SCALAR),                                              \
        FIELD(struct __sk_buff, vlan_proto, R, SCALAR),                                            \
        FIELD(struct __sk_buff, ingress_ifindex, R, SCALAR),                                       \
        FIELD(struct __sk_buff, ifindex, R, SCALAR), ARRAY(struct __sk_buff, cb, RW),              \
        FIELD(struct __sk_buff, hash, R, SCALAR), FIELD(struct __sk_buff, napi_id, R, SCALAR),     \
        FIELD(struct __sk_buff, gso_segs, R, SCALAR), FIELD(struct __sk_buff, gso_size, R, SCALAR)

#define SKB_SOCKET_FIELDS                                                                          \
    FIELD(struct __sk_buff, family, R, SCALAR), FIELD(struct __sk_buff, remote_ip4, R, SCALAR),    \
        FIELD(struct __sk_buff, local_ip4, R, SCALAR), ARRAY(struct __sk_buff, remote_ip6, R),     \
        ARRAY(struct __sk_buff, local_ip6, R), FIELD(struct __sk_buff, remote_port, R, SCALAR),    \
        FIELD(struct __sk_buff, local_port, R, SCALAR)

static const ebpf_verifier_context_field_t tc_fields[] = {
    SKB_COMMON_FIELDS,
    FIELD(struct __sk_buff, mark, RW, SCALAR),
    FIELD(struct __sk_buff, queue_mapping, RW, SCALAR),
    FIELD(struct __sk_buff, priority, RW, SCALAR),
    FIELD(struct __sk_buff, tc_index, RW, SCALAR),
    FIELD(struct __sk_buff, tc_classid, RW, SCALAR),
    FIELD(struct __sk_buff, data, PTR, EBPF_CONTEXT_FIELD_DATA),
    FIELD(struct __sk_buff, data_end, PTR, EBPF_CONTEXT_FIELD_DATA_END),
    FIELD(struct __sk_buff, data_meta, PTR, EBPF_CONTEXT_FIELD_DATA_META),
    FIELD(struct __sk_buff, tstamp, RW, SCALAR),
    FIELD(struct __sk_buff, wire_len, R, SCALAR),
    FIELD(struct __sk_buff, tstamp_type, R, SCALAR),
    FIELD(struct __sk_buff, hwtstamp, R, SCALAR),
};

static const ebpf_verifier_context_field_t socket_filter_fields[] = {
    SKB_COMMON_FIELDS,
    SKB_SOCKET_FIELDS,
    FIELD(struct __sk_buff, mark, R, SCALAR),
    FIELD(struct __sk_buff, queue_mapping, R, SCALAR),
    FIELD(struct __sk_buff, priority, R, SCALAR),
    FIELD(struct __sk_buff, tc_index, R, SCALAR),
    FIELD(struct __sk_buff, tstamp, R, SCALAR),
};

static const ebpf_verifier_context_field_t cgroup_skb_fields[] = {
    SKB_COMMON_FIELDS,
    SKB_SOCKET_FIELDS,
    FIELD(struct __sk_buff, mark, RW, SCALAR),
    FIELD(struct __sk_buff, queue_mapping, R, SCALAR),
    FIELD(struct __sk_buff, priority, RW, SCALAR),
    FIELD(struct __sk_buff, tc_index, R, SCALAR),
    FIELD(struct __sk_buff, data, PTR, EBPF_CONTEXT_FIELD_DATA),
    FIELD(struct __sk_buff, data_end, PTR, EBPF_CONTEXT_FIELD_DATA_END),
    FIELD(struct __sk_buff, tstamp, RW, SCALAR),
    FIELD(struct __sk_buff, wire_len, R, SCALAR),
};

static const ebpf_verifier_context_field_t sock_ops_fields[] = {
    FIELD(struct bpf_sock_ops, op, R, SCALAR),
    ARRAY(struct bpf_sock_ops, replylong, RW),
    FIELD(struct bpf_sock_ops, family, R, SCALAR),
    FIELD(struct bpf_sock_ops, remote_ip4, R, SCALAR),
    FIELD(struct bpf_sock_ops, local_ip4, R, SCALAR),
    ARRAY(struct bpf_sock_ops, remote_ip6, R),
    ARRAY(struct bpf_sock_ops, local_ip6, R),
    FIELD(struct bpf_sock_ops, remote_port, R, SCALAR),
    FIELD(struct bpf_sock_ops, local_port, R, SCALAR),
    FIELD(struct bpf_sock_ops, is_fullsock, R, SCALAR),
    FIELD(struct bpf_sock_ops, snd_cwnd, R, SCALAR),
    FIELD(struct bpf_sock_ops, srtt_us, R, SCALAR),
    FIELD(struct bpf_sock_ops, bpf_sock_ops_cb_flags, R, SCALAR),
    FIELD(struct bpf_sock_ops, state, R, SCALAR),
    FIELD(struct bpf_sock_ops, rtt_min, R, SCALAR),
    FIELD(struct bpf_sock_ops, snd_ssthresh, R, SCALAR),
    FIELD(struct bpf_sock_ops, rcv_nxt, R, SCALAR),
    FIELD(struct bpf_sock_ops, snd_nxt, R, SCALAR),
    FIELD(struct bpf_sock_ops, snd_una, R, SCALAR),
    FIELD(struct bpf_sock_ops, mss_cache, R, SCALAR),
    FIELD(struct bpf_sock_ops, ecn_flags, R, SCALAR),
    FIELD(struct bpf_sock_ops, rate_delivered, R, SCALAR),
    FIELD(struct bpf_sock_ops, rate_interval_us, R, SCALAR),
    FIELD(struct bpf_sock_ops, packets_out, R, SCALAR),
    FIELD(struct bpf_sock_ops, retrans_out, R, SCALAR),
    FIELD(struct bpf_sock_ops, total_retrans, R, SCALAR),
    FIELD(struct bpf_sock_ops, segs_in, R, SCALAR),
    FIELD(struct bpf_sock_ops, data_segs_in, R, SCALAR),
    FIELD(struct bpf_sock_ops, segs_out, R, SCALAR),
    FIELD(struct bpf_sock_ops, data_segs_out, R, SCALAR),
    FIELD(struct bpf_sock_ops, lost_out, R, SCALAR),
    FIELD(struct bpf_sock_ops, sacked_out, R, SCALAR),
    FIELD(struct bpf_sock_ops, sk_txhash, RW, SCALAR),
    FIELD(struct bpf_sock_ops, bytes_received, R, SCALAR),
    FIELD(struct bpf_sock_ops, bytes_acked, R, SCALAR),
    FIELD(struct bpf_sock_ops, skb_data, PTR, EBPF_CONTEXT_FIELD_DATA),
    FIELD(struct bpf_sock_ops, skb_data_end, PTR, EBPF_CONTEXT_FIELD_DATA_END),
    FIELD(struct bpf_sock_ops, skb_len, R, SCALAR),
    FIELD(struct bpf_sock_ops, skb_tcp_flags, R, SCALAR),
};

static const ebpf_verifier_context_field_t kprobe_fields[] = {
    {"regs", 0, 8, sizeof(bpf_user_pt_regs_t) / 8, R, SCALAR},
};

/* A tracepoint's record: its format says what lies where (PERF_MAX_TRACE_SIZE bytes at most). */
static const ebpf_verifier_context_field_t tracepoint_fields[] = {
    {"record", 0, 8, 2048 / 8, R, SCALAR},
};

/* The arguments of the traced function (MAX_BPF_FUNC_ARGS of them), read whole. */
static const ebpf_verifier_context_field_t raw_tracepoint_fields[] = {
    {"args", 0, 8, 12, EBPF_CONTEXT_FIELD_READ, SCALAR},
};

static const ebpf_verifier_context_field_t perf_event_fields[] = {
    {"regs", offsetof(struct bpf_perf_event_data, regs), 8, sizeof(bpf_user_pt_regs_t) / 8, R,
     SCALAR},
    FIELD(struct bpf_perf_event_data, sample_period, R, SCALAR),
    FIELD(struct bpf_perf_event_data, addr, R, SCALAR),
};

/* ---- the types ---- */

#define CONTEXT(name_, size_, data_, end_, meta_)                                                  \
    static const ebpf_context_descriptor_t name_ = {                                               \
        EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),         \
        (int32_t)(size_), (data_), (end_), (meta_)}

CONTEXT(xdp_context, sizeof(struct xdp_md), offsetof(struct xdp_md, data),
        offsetof(struct xdp_md, data_end), offsetof(struct xdp_md, data_meta));
CONTEXT(tc_context, sizeof(struct __sk_buff), offsetof(struct __sk_buff, data),
        offsetof(struct __sk_buff, data_end), offsetof(struct __sk_buff, data_meta));
CONTEXT(socket_filter_context, sizeof(struct __sk_buff), -1, -1, -1);
CONTEXT(cgroup_skb_context, sizeof(struct __sk_buff), offsetof(struct __sk_buff, data),
        offsetof(struct __sk_buff, data_end), -1);
CONTEXT(sock_ops_context, sizeof(struct bpf_sock_ops), offsetof(struct bpf_sock_ops, skb_data),
        offsetof(struct bpf_sock_ops, skb_data_end), -1);
CONTEXT(kprobe_context, sizeof(bpf_user_pt_regs_t), -1, -1, -1);
CONTEXT(tracepoint_context, 2048, -1, -1, -1);
CONTEXT(raw_tracepoint_context, 12 * 8, -1, -1, -1);
CONTEXT(perf_event_context, sizeof(struct bpf_perf_event_data), -1, -1, -1);

typedef struct linux_type_definition {
    const char *name;
    uint32_t bpf_prog_type;
    uint32_t groups;
    const ebpf_context_descriptor_t *context;
    const ebpf_verifier_context_field_t *fields;
    uint32_t field_count;
} linux_type_definition_t;

#define TYPE(name_, prog_type_, groups_, context_, fields_)                                        \
    {                                                                                              \
        name_, prog_type_, (groups_) | GROUP_BASE, &context_, fields_, EBPF_ARRAY_SIZE(fields_)    \
    }

static const linux_type_definition_t definitions[] = {
    TYPE("xdp", BPF_PROG_TYPE_XDP, GROUP_XDP, xdp_context, xdp_fields),
    TYPE("sched_cls", BPF_PROG_TYPE_SCHED_CLS, GROUP_SKB | GROUP_TC, tc_context, tc_fields),
    TYPE("sched_act", BPF_PROG_TYPE_SCHED_ACT, GROUP_SKB | GROUP_TC, tc_context, tc_fields),
    TYPE("socket_filter", BPF_PROG_TYPE_SOCKET_FILTER, GROUP_SKB, socket_filter_context,
         socket_filter_fields),
    TYPE("cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB, GROUP_SKB | GROUP_CGROUP_SKB, cgroup_skb_context,
         cgroup_skb_fields),
    TYPE("sock_ops", BPF_PROG_TYPE_SOCK_OPS, GROUP_SOCK_OPS, sock_ops_context, sock_ops_fields),
    TYPE("kprobe", BPF_PROG_TYPE_KPROBE, GROUP_TRACING | GROUP_KPROBE, kprobe_context,
         kprobe_fields),
    TYPE("tracepoint", BPF_PROG_TYPE_TRACEPOINT, GROUP_TRACING, tracepoint_context,
         tracepoint_fields),
    TYPE("raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT, GROUP_TRACING, raw_tracepoint_context,
         raw_tracepoint_fields),
    TYPE("perf_event", BPF_PROG_TYPE_PERF_EVENT, GROUP_TRACING | GROUP_PERF_EVENT,
         perf_event_context, perf_event_fields),
};

#define TYPE_COUNT EBPF_ARRAY_SIZE(definitions)

/* Built once from the tables above: each type's helpers, contiguous, as program information
 * carries them. Written only inside pthread_once, read-only afterwards. */
static ebpf_program_type_descriptor_t type_descriptors[TYPE_COUNT];
static ebpf_helper_prototype_t type_helpers[TYPE_COUNT][EBPF_ARRAY_SIZE(linux_helpers)];
static ebpf_program_info_t type_infos[TYPE_COUNT];
static ebpf_verifier_linux_program_type_t types[TYPE_COUNT];
static pthread_once_t types_built = PTHREAD_ONCE_INIT;

static void build_types(void)
{
    for (size_t t = 0; t < TYPE_COUNT; t++) {
        const linux_type_definition_t *definition = &definitions[t];
        uint32_t count = 0;
        for (size_t h = 0; h < EBPF_ARRAY_SIZE(linux_helpers); h++) {
            if (!(linux_helpers[h].groups & definition->groups))
                continue;
            type_helpers[t][count] = linux_helpers[h].prototype;
            type_helpers[t][count].changes_packet = linux_helpers[h].changes_packet;
            type_helpers[t][count].is_tail_call = linux_helpers[h].is_tail_call;
            count++;
        }
        type_descriptors[t] = (ebpf_program_type_descriptor_t){
            .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION,
                                            ebpf_program_type_descriptor_t),
            .name = definition->name,
            .context_descriptor = definition->context,
            .bpf_prog_type = definition->bpf_prog_type,
            .is_privileged = true,
        };
        type_infos[t] = (ebpf_program_info_t){
            .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
            .program_type_descriptor = &type_descriptors[t],
            .count_of_global_helpers = count,
            .global_helper_prototype = type_helpers[t],
        };
        types[t] = (ebpf_verifier_linux_program_type_t){
            .name = definition->name,
            .bpf_prog_type = definition->bpf_prog_type,
            .program_info = &type_infos[t],
            .context_fields = definition->fields,
            .context_field_count = definition->field_count,
        };
    }
}

const ebpf_verifier_linux_program_type_t *ebpf_verifier_linux_program_types(size_t *count)
{
    pthread_once(&types_built, build_types);
    if (count)
        *count = TYPE_COUNT;
    return types;
}

const ebpf_verifier_linux_program_type_t *ebpf_verifier_linux_program_type_by_name(const char *name)
{
    const ebpf_verifier_linux_program_type_t *all = ebpf_verifier_linux_program_types(NULL);
    if (!name)
        return NULL;
    for (size_t t = 0; t < TYPE_COUNT; t++)
        if (strcmp(all[t].name, name) == 0)
            return &all[t];
    return NULL;
}

/* libbpf's SEC() names: the name itself, or followed by '/' (an attach target) or '.' (a
 * variant such as xdp.frags or kprobe.multi). */
static const struct {
    const char *prefix;
    const char *type;
} section_prefixes[] = {
    {"socket", "socket_filter"},
    {"kprobe", "kprobe"},
    {"kretprobe", "kprobe"},
    {"uprobe", "kprobe"},
    {"uretprobe", "kprobe"},
    {"ksyscall", "kprobe"},
    {"kretsyscall", "kprobe"},
    {"usdt", "kprobe"},
    {"tc", "sched_cls"},
    {"tcx", "sched_cls"},
    {"classifier", "sched_cls"},
    {"action", "sched_act"},
    {"tracepoint", "tracepoint"},
    {"tp", "tracepoint"},
    {"raw_tracepoint", "raw_tracepoint"},
    {"raw_tp", "raw_tracepoint"},
    {"xdp", "xdp"},
    {"perf_event", "perf_event"},
    {"cgroup_skb", "cgroup_skb"},
    {"cgroup/skb", "cgroup_skb"},
    {"sockops", "sock_ops"},
};

const ebpf_verifier_linux_program_type_t *
ebpf_verifier_linux_program_type_from_section(const char *section_name)
{
    if (!section_name)
        return NULL;
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(section_prefixes); i++) {
        size_t length = strlen(section_prefixes[i].prefix);
        if (strncmp(section_name, section_prefixes[i].prefix, length) != 0)
            continue;
        char next = section_name[length];
        if (next == '\0' || next == '/' || next == '.')
            return ebpf_verifier_linux_program_type_by_name(section_prefixes[i].type);
    }
    return NULL;
}

const ebpf_helper_prototype_t *ebpf_verifier_linux_find_helper(void *linux_program_type,
                                                               uint32_t id)
{
    const ebpf_verifier_linux_program_type_t *type = linux_program_type;
    const ebpf_program_info_t *info = type ? type->program_info : NULL;
    if (!info)
        return NULL;
    for (uint32_t i = 0; i < info->count_of_global_helpers; i++)
        if (info->global_helper_prototype[i].id == id)
            return &info->global_helper_prototype[i];
    return NULL;
}

void ebpf_verifier_linux_options(const ebpf_verifier_linux_program_type_t *type,
                                 ebpf_verifier_options_t *options)
{
    options->find_helper = ebpf_verifier_linux_find_helper;
    options->find_helper_context = (void *)type;
    options->context_fields = type->context_fields;
    options->context_field_count = type->context_field_count;
}
