/* Program, attach and map types by name: section names through the eBPF store and the Linux
 * section names, and the names libbpf gives to type numbers. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api_private.h"
#include "ebpf_store.h"

/* ------------------------------------------------------------------------------------------
 * Linux section names (from the kernel's libbpf documentation, "Program Types and ELF
 * Sections"): a prefix ending in '/' matches anything after it; any other prefix matches
 * itself exactly or followed by '/'.
 * ------------------------------------------------------------------------------------------ */

#define NOT_ATTACHABLE (-1)

typedef struct linux_section {
    const char *prefix;
    uint32_t prog_type;
    uint32_t expected_attach_type;
    int32_t attach_type; /* for libbpf_attach_type_by_name, or NOT_ATTACHABLE */
} linux_section_t;

static const linux_section_t linux_sections[] = {
    {"socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, NOT_ATTACHABLE},
    {"sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
     BPF_SK_REUSEPORT_SELECT_OR_MIGRATE},
    {"sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, BPF_SK_REUSEPORT_SELECT},
    {"kprobe/", BPF_PROG_TYPE_KPROBE, 0, NOT_ATTACHABLE},
    {"uprobe", BPF_PROG_TYPE_KPROBE, 0, NOT_ATTACHABLE},
    {"kretprobe/", BPF_PROG_TYPE_KPROBE, 0, NOT_ATTACHABLE},
    {"uretprobe", BPF_PROG_TYPE_KPROBE, 0, NOT_ATTACHABLE},
    {"kprobe.multi", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, NOT_ATTACHABLE},
    {"kretprobe.multi", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, NOT_ATTACHABLE},
    {"ksyscall", BPF_PROG_TYPE_KPROBE, 0, NOT_ATTACHABLE},
    {"kretsyscall", BPF_PROG_TYPE_KPROBE, 0, NOT_ATTACHABLE},
    {"usdt", BPF_PROG_TYPE_KPROBE, 0, NOT_ATTACHABLE},
    {"tc", BPF_PROG_TYPE_SCHED_CLS, 0, NOT_ATTACHABLE},
    {"classifier", BPF_PROG_TYPE_SCHED_CLS, 0, NOT_ATTACHABLE},
    {"action", BPF_PROG_TYPE_SCHED_ACT, 0, NOT_ATTACHABLE},
    {"tracepoint/", BPF_PROG_TYPE_TRACEPOINT, 0, NOT_ATTACHABLE},
    {"tp/", BPF_PROG_TYPE_TRACEPOINT, 0, NOT_ATTACHABLE},
    {"raw_tracepoint/", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, NOT_ATTACHABLE},
    {"raw_tp/", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, NOT_ATTACHABLE},
    {"raw_tracepoint.w/", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, NOT_ATTACHABLE},
    {"raw_tp.w/", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, NOT_ATTACHABLE},
    {"tp_btf/", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, BPF_TRACE_RAW_TP},
    {"fentry/", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, BPF_TRACE_FENTRY},
    {"fmod_ret/", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, BPF_MODIFY_RETURN},
    {"fexit/", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, BPF_TRACE_FEXIT},
    {"fentry.s/", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, BPF_TRACE_FENTRY},
    {"fmod_ret.s/", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, BPF_MODIFY_RETURN},
    {"fexit.s/", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, BPF_TRACE_FEXIT},
    {"freplace/", BPF_PROG_TYPE_EXT, 0, NOT_ATTACHABLE},
    {"lsm/", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, BPF_LSM_MAC},
    {"lsm.s/", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, BPF_LSM_MAC},
    {"lsm_cgroup/", BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP, BPF_LSM_CGROUP},
    {"iter/", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, BPF_TRACE_ITER},
    {"iter.s/", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, BPF_TRACE_ITER},
    {"syscall", BPF_PROG_TYPE_SYSCALL, 0, NOT_ATTACHABLE},
    {"xdp.frags/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, BPF_XDP_DEVMAP},
    {"xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, BPF_XDP_DEVMAP},
    {"xdp.frags/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, BPF_XDP_CPUMAP},
    {"xdp/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, BPF_XDP_CPUMAP},
    {"xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, BPF_XDP},
    {"xdp", BPF_PROG_TYPE_XDP, BPF_XDP, BPF_XDP},
    {"perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, NOT_ATTACHABLE},
    {"lwt_in", BPF_PROG_TYPE_LWT_IN, 0, NOT_ATTACHABLE},
    {"lwt_out", BPF_PROG_TYPE_LWT_OUT, 0, NOT_ATTACHABLE},
    {"lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0, NOT_ATTACHABLE},
    {"lwt_seg6local", BPF_PROG_TYPE_LWT_SEG6LOCAL, 0, NOT_ATTACHABLE},
    {"sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, BPF_CGROUP_SOCK_OPS},
    {"sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER,
     BPF_SK_SKB_STREAM_PARSER},
    {"sk_skb/stream_verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT,
     BPF_SK_SKB_STREAM_VERDICT},
    {"sk_skb", BPF_PROG_TYPE_SK_SKB, 0, NOT_ATTACHABLE},
    {"sk_msg", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT, BPF_SK_MSG_VERDICT},
    {"lirc_mode2", BPF_PROG_TYPE_LIRC_MODE2, BPF_LIRC_MODE2, BPF_LIRC_MODE2},
    {"flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR},
    {"cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS,
     BPF_CGROUP_INET_INGRESS},
    {"cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, BPF_CGROUP_INET_EGRESS},
    {"cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB, 0, NOT_ATTACHABLE},
    {"cgroup/sock_create", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE,
     BPF_CGROUP_INET_SOCK_CREATE},
    {"cgroup/sock_release", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE,
     BPF_CGROUP_INET_SOCK_RELEASE},
    {"cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE,
     BPF_CGROUP_INET_SOCK_CREATE},
    {"cgroup/post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND,
     BPF_CGROUP_INET4_POST_BIND},
    {"cgroup/post_bind6", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND,
     BPF_CGROUP_INET6_POST_BIND},
    {"cgroup/dev", BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE, BPF_CGROUP_DEVICE},
    {"cgroup/bind4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND, BPF_CGROUP_INET4_BIND},
    {"cgroup/bind6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, BPF_CGROUP_INET6_BIND},
    {"cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT,
     BPF_CGROUP_INET4_CONNECT},
    {"cgroup/connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT,
     BPF_CGROUP_INET6_CONNECT},
    {"cgroup/sendmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG,
     BPF_CGROUP_UDP4_SENDMSG},
    {"cgroup/sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG,
     BPF_CGROUP_UDP6_SENDMSG},
    {"cgroup/recvmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG,
     BPF_CGROUP_UDP4_RECVMSG},
    {"cgroup/recvmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG,
     BPF_CGROUP_UDP6_RECVMSG},
    {"cgroup/getpeername4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME,
     BPF_CGROUP_INET4_GETPEERNAME},
    {"cgroup/getpeername6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME,
     BPF_CGROUP_INET6_GETPEERNAME},
    {"cgroup/getsockname4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME,
     BPF_CGROUP_INET4_GETSOCKNAME},
    {"cgroup/getsockname6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME,
     BPF_CGROUP_INET6_GETSOCKNAME},
    {"cgroup/sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL},
    {"cgroup/getsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT,
     BPF_CGROUP_GETSOCKOPT},
    {"cgroup/setsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT,
     BPF_CGROUP_SETSOCKOPT},
    {"struct_ops", BPF_PROG_TYPE_STRUCT_OPS, 0, NOT_ATTACHABLE},
    {"sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, BPF_SK_LOOKUP},
};

static size_t section_match_length(const char *section, const char *prefix)
{
    size_t length = strlen(prefix);
    if (strncmp(section, prefix, length) != 0)
        return 0;
    if (prefix[length - 1] == '/' || section[length] == '\0' || section[length] == '/')
        return length;
    return 0;
}

static const linux_section_t *find_linux_section(const char *section)
{
    const linux_section_t *best = NULL;
    size_t best_length = 0;
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(linux_sections); i++) {
        size_t length = section_match_length(section, linux_sections[i].prefix);
        if (length > best_length) {
            best = &linux_sections[i];
            best_length = length;
        }
    }
    return best;
}

/* ------------------------------------------------------------------------------------------
 * Store.
 * ------------------------------------------------------------------------------------------ */

int api_resolve_section(const char *section, api_section_type_t *type)
{
    ebpf_store_t *store;
    ebpf_stored_section_t stored;
    int rc;

    if (section == NULL)
        return ebpf_error(-EINVAL, "no section name");
    rc = ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store);
    if (rc == 0) {
        rc = ebpf_store_resolve_section(store, section, &stored);
        ebpf_store_close(store);
    }
    if (rc == 0) {
        *type = (api_section_type_t){
            .from_store = true,
            .program_type = stored.program_type,
            .attach_type = stored.attach_type,
            .bpf_prog_type = stored.bpf_program_type,
            .bpf_attach_type = stored.bpf_attach_type,
        };
        return 0;
    }
    if (rc != -ENOENT)
        return ebpf_error_prefix(rc, "section %s: ", section);
    const linux_section_t *known = find_linux_section(section);
    if (known == NULL)
        return ebpf_error(-ESRCH,
                          "section %s: no program type: neither the eBPF store nor the Linux "
                          "section names know it",
                          section);
    *type = (api_section_type_t){
        .from_store = false,
        .bpf_prog_type = known->prog_type,
        .bpf_attach_type = known->expected_attach_type,
    };
    return 0;
}

static int list_sections(ebpf_stored_section_t **sections, size_t *count)
{
    ebpf_store_t *store;
    int rc = ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store);
    if (rc != 0)
        return rc;
    rc = ebpf_store_list_sections(store, sections, count);
    ebpf_store_close(store);
    return rc;
}

int api_program_type_by_number(uint32_t bpf_prog_type, api_section_type_t *type)
{
    ebpf_stored_section_t *sections = NULL;
    size_t count = 0;
    int rc = list_sections(&sections, &count);
    if (rc != 0)
        return rc;
    rc = ebpf_error(-ENOENT, "program type %u: no section of the eBPF store has it", bpf_prog_type);
    for (size_t i = 0; i < count; i++) {
        if (sections[i].bpf_program_type == bpf_prog_type) {
            *type = (api_section_type_t){
                .from_store = true,
                .program_type = sections[i].program_type,
                .attach_type = sections[i].attach_type,
                .bpf_prog_type = sections[i].bpf_program_type,
                .bpf_attach_type = sections[i].bpf_attach_type,
            };
            rc = 0;
            break;
        }
    }
    ebpf_free(sections);
    return rc;
}

bool api_program_type_name(const ebpf_guid_t *program_type, char *name, size_t size)
{
    ebpf_store_t *store;
    ebpf_stored_program_info_t *info;
    char guid[EBPF_GUID_STRING_LENGTH + 1];
    bool found = false;

    ebpf_guid_to_string(program_type, guid);
    snprintf(name, size, "%s", guid);
    if (ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store) != 0)
        return false;
    if (ebpf_store_load_program_info(store, program_type, &info) == 0) {
        if (info->name != NULL && info->name[0] != '\0') {
            snprintf(name, size, "%s", info->name);
            found = true;
        }
        ebpf_store_free_program_info(info);
    }
    ebpf_store_close(store);
    return found;
}

/* ------------------------------------------------------------------------------------------
 * libbpf names.
 * ------------------------------------------------------------------------------------------ */

int libbpf_prog_type_by_name(const char *name, enum bpf_prog_type *prog_type,
                             enum bpf_attach_type *expected_attach_type)
{
    api_section_type_t type;
    if (name == NULL || prog_type == NULL || expected_attach_type == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "libbpf_prog_type_by_name: NULL argument"));
    int rc = api_resolve_section(name, &type);
    if (rc != 0)
        return libbpf_result(rc);
    *prog_type = (enum bpf_prog_type)type.bpf_prog_type;
    *expected_attach_type = (enum bpf_attach_type)type.bpf_attach_type;
    return 0;
}

int libbpf_attach_type_by_name(const char *name, enum bpf_attach_type *attach_type)
{
    api_section_type_t type;
    if (name == NULL || attach_type == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "libbpf_attach_type_by_name: NULL argument"));
    int rc = api_resolve_section(name, &type);
    if (rc != 0)
        return libbpf_result(rc);
    if (!type.from_store) {
        const linux_section_t *known = find_linux_section(name);
        if (known->attach_type == NOT_ATTACHABLE)
            return libbpf_result(
                ebpf_error(-EINVAL, "section %s: its programs are not attached by type", name));
        *attach_type = (enum bpf_attach_type)known->attach_type;
        return 0;
    }
    *attach_type = (enum bpf_attach_type)type.bpf_attach_type;
    return 0;
}

static const char *const prog_type_names[] = {
    [BPF_PROG_TYPE_UNSPEC] = "unspec",
    [BPF_PROG_TYPE_SOCKET_FILTER] = "socket_filter",
    [BPF_PROG_TYPE_KPROBE] = "kprobe",
    [BPF_PROG_TYPE_SCHED_CLS] = "sched_cls",
    [BPF_PROG_TYPE_SCHED_ACT] = "sched_act",
    [BPF_PROG_TYPE_TRACEPOINT] = "tracepoint",
    [BPF_PROG_TYPE_XDP] = "xdp",
    [BPF_PROG_TYPE_PERF_EVENT] = "perf_event",
    [BPF_PROG_TYPE_CGROUP_SKB] = "cgroup_skb",
    [BPF_PROG_TYPE_CGROUP_SOCK] = "cgroup_sock",
    [BPF_PROG_TYPE_LWT_IN] = "lwt_in",
    [BPF_PROG_TYPE_LWT_OUT] = "lwt_out",
    [BPF_PROG_TYPE_LWT_XMIT] = "lwt_xmit",
    [BPF_PROG_TYPE_SOCK_OPS] = "sock_ops",
    [BPF_PROG_TYPE_SK_SKB] = "sk_skb",
    [BPF_PROG_TYPE_CGROUP_DEVICE] = "cgroup_device",
    [BPF_PROG_TYPE_SK_MSG] = "sk_msg",
    [BPF_PROG_TYPE_RAW_TRACEPOINT] = "raw_tracepoint",
    [BPF_PROG_TYPE_CGROUP_SOCK_ADDR] = "cgroup_sock_addr",
    [BPF_PROG_TYPE_LWT_SEG6LOCAL] = "lwt_seg6local",
    [BPF_PROG_TYPE_LIRC_MODE2] = "lirc_mode2",
    [BPF_PROG_TYPE_SK_REUSEPORT] = "sk_reuseport",
    [BPF_PROG_TYPE_FLOW_DISSECTOR] = "flow_dissector",
    [BPF_PROG_TYPE_CGROUP_SYSCTL] = "cgroup_sysctl",
    [BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE] = "raw_tracepoint_writable",
    [BPF_PROG_TYPE_CGROUP_SOCKOPT] = "cgroup_sockopt",
    [BPF_PROG_TYPE_TRACING] = "tracing",
    [BPF_PROG_TYPE_STRUCT_OPS] = "struct_ops",
    [BPF_PROG_TYPE_EXT] = "ext",
    [BPF_PROG_TYPE_LSM] = "lsm",
    [BPF_PROG_TYPE_SK_LOOKUP] = "sk_lookup",
    [BPF_PROG_TYPE_SYSCALL] = "syscall",
};

static const char *const attach_type_names[] = {
    [BPF_CGROUP_INET_INGRESS] = "cgroup_inet_ingress",
    [BPF_CGROUP_INET_EGRESS] = "cgroup_inet_egress",
    [BPF_CGROUP_INET_SOCK_CREATE] = "cgroup_inet_sock_create",
    [BPF_CGROUP_SOCK_OPS] = "cgroup_sock_ops",
    [BPF_SK_SKB_STREAM_PARSER] = "sk_skb_stream_parser",
    [BPF_SK_SKB_STREAM_VERDICT] = "sk_skb_stream_verdict",
    [BPF_CGROUP_DEVICE] = "cgroup_device",
    [BPF_SK_MSG_VERDICT] = "sk_msg_verdict",
    [BPF_CGROUP_INET4_BIND] = "cgroup_inet4_bind",
    [BPF_CGROUP_INET6_BIND] = "cgroup_inet6_bind",
    [BPF_CGROUP_INET4_CONNECT] = "cgroup_inet4_connect",
    [BPF_CGROUP_INET6_CONNECT] = "cgroup_inet6_connect",
    [BPF_CGROUP_INET4_POST_BIND] = "cgroup_inet4_post_bind",
    [BPF_CGROUP_INET6_POST_BIND] = "cgroup_inet6_post_bind",
    [BPF_CGROUP_UDP4_SENDMSG] = "cgroup_udp4_sendmsg",
    [BPF_CGROUP_UDP6_SENDMSG] = "cgroup_udp6_sendmsg",
    [BPF_LIRC_MODE2] = "lirc_mode2",
    [BPF_FLOW_DISSECTOR] = "flow_dissector",
    [BPF_CGROUP_SYSCTL] = "cgroup_sysctl",
    [BPF_CGROUP_UDP4_RECVMSG] = "cgroup_udp4_recvmsg",
    [BPF_CGROUP_UDP6_RECVMSG] = "cgroup_udp6_recvmsg",
    [BPF_CGROUP_GETSOCKOPT] = "cgroup_getsockopt",
    [BPF_CGROUP_SETSOCKOPT] = "cgroup_setsockopt",
    [BPF_TRACE_RAW_TP] = "trace_raw_tp",
    [BPF_TRACE_FENTRY] = "trace_fentry",
    [BPF_TRACE_FEXIT] = "trace_fexit",
    [BPF_MODIFY_RETURN] = "modify_return",
    [BPF_LSM_MAC] = "lsm_mac",
    [BPF_TRACE_ITER] = "trace_iter",
    [BPF_CGROUP_INET4_GETPEERNAME] = "cgroup_inet4_getpeername",
    [BPF_CGROUP_INET6_GETPEERNAME] = "cgroup_inet6_getpeername",
    [BPF_CGROUP_INET4_GETSOCKNAME] = "cgroup_inet4_getsockname",
    [BPF_CGROUP_INET6_GETSOCKNAME] = "cgroup_inet6_getsockname",
    [BPF_XDP_DEVMAP] = "xdp_devmap",
    [BPF_CGROUP_INET_SOCK_RELEASE] = "cgroup_inet_sock_release",
    [BPF_XDP_CPUMAP] = "xdp_cpumap",
    [BPF_SK_LOOKUP] = "sk_lookup",
    [BPF_XDP] = "xdp",
    [BPF_SK_SKB_VERDICT] = "sk_skb_verdict",
    [BPF_SK_REUSEPORT_SELECT] = "sk_reuseport_select",
    [BPF_SK_REUSEPORT_SELECT_OR_MIGRATE] = "sk_reuseport_select_or_migrate",
    [BPF_PERF_EVENT] = "perf_event",
    [BPF_TRACE_KPROBE_MULTI] = "trace_kprobe_multi",
    [BPF_LSM_CGROUP] = "lsm_cgroup",
};

static const char *const map_type_names[] = {
    [BPF_MAP_TYPE_UNSPEC] = "unspec",
    [BPF_MAP_TYPE_HASH] = "hash",
    [BPF_MAP_TYPE_ARRAY] = "array",
    [BPF_MAP_TYPE_PROG_ARRAY] = "prog_array",
    [BPF_MAP_TYPE_PERF_EVENT_ARRAY] = "perf_event_array",
    [BPF_MAP_TYPE_PERCPU_HASH] = "percpu_hash",
    [BPF_MAP_TYPE_PERCPU_ARRAY] = "percpu_array",
    [BPF_MAP_TYPE_STACK_TRACE] = "stack_trace",
    [BPF_MAP_TYPE_CGROUP_ARRAY] = "cgroup_array",
    [BPF_MAP_TYPE_LRU_HASH] = "lru_hash",
    [BPF_MAP_TYPE_LRU_PERCPU_HASH] = "lru_percpu_hash",
    [BPF_MAP_TYPE_LPM_TRIE] = "lpm_trie",
    [BPF_MAP_TYPE_ARRAY_OF_MAPS] = "array_of_maps",
    [BPF_MAP_TYPE_HASH_OF_MAPS] = "hash_of_maps",
    [BPF_MAP_TYPE_DEVMAP] = "devmap",
    [BPF_MAP_TYPE_SOCKMAP] = "sockmap",
    [BPF_MAP_TYPE_CPUMAP] = "cpumap",
    [BPF_MAP_TYPE_XSKMAP] = "xskmap",
    [BPF_MAP_TYPE_SOCKHASH] = "sockhash",
    [BPF_MAP_TYPE_CGROUP_STORAGE] = "cgroup_storage",
    [BPF_MAP_TYPE_REUSEPORT_SOCKARRAY] = "reuseport_sockarray",
    [BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE] = "percpu_cgroup_storage",
    [BPF_MAP_TYPE_QUEUE] = "queue",
    [BPF_MAP_TYPE_STACK] = "stack",
    [BPF_MAP_TYPE_SK_STORAGE] = "sk_storage",
    [BPF_MAP_TYPE_DEVMAP_HASH] = "devmap_hash",
    [BPF_MAP_TYPE_STRUCT_OPS] = "struct_ops",
    [BPF_MAP_TYPE_RINGBUF] = "ringbuf",
    [BPF_MAP_TYPE_INODE_STORAGE] = "inode_storage",
    [BPF_MAP_TYPE_TASK_STORAGE] = "task_storage",
    [BPF_MAP_TYPE_BLOOM_FILTER] = "bloom_filter",
    [BPF_MAP_TYPE_USER_RINGBUF] = "user_ringbuf",
};

static const char *const link_type_names[] = {
    [BPF_LINK_TYPE_UNSPEC] = "unspec",
    [BPF_LINK_TYPE_RAW_TRACEPOINT] = "raw_tracepoint",
    [BPF_LINK_TYPE_TRACING] = "tracing",
    [BPF_LINK_TYPE_CGROUP] = "cgroup",
    [BPF_LINK_TYPE_ITER] = "iter",
    [BPF_LINK_TYPE_NETNS] = "netns",
    [BPF_LINK_TYPE_XDP] = "xdp",
    [BPF_LINK_TYPE_PERF_EVENT] = "perf_event",
    [BPF_LINK_TYPE_KPROBE_MULTI] = "kprobe_multi",
    [BPF_LINK_TYPE_STRUCT_OPS] = "struct_ops",
};

/* Names of numbers the store defines (netevent_monitor = 1001), kept for the life of the
 * process so the pointers returned stay valid, in a fixed table so that nothing is allocated
 * for them. */
#define STORE_NAME_SLOTS 32
#define STORE_NAME_SIZE  256

typedef struct store_name {
    bool is_attach_type;
    uint32_t number;
    char name[STORE_NAME_SIZE];
} store_name_t;

/* Guards store_names and store_name_count; a slot never changes once counted. */
static pthread_mutex_t store_names_lock = PTHREAD_MUTEX_INITIALIZER;
static store_name_t store_names[STORE_NAME_SLOTS];
static size_t store_name_count;

static const char *store_type_name(bool is_attach_type, uint32_t number)
{
    const char *found = NULL;
    ebpf_stored_section_t *sections = NULL;
    size_t count = 0;

    pthread_mutex_lock(&store_names_lock);
    for (size_t i = 0; i < store_name_count; i++) {
        if (store_names[i].is_attach_type == is_attach_type && store_names[i].number == number) {
            found = store_names[i].name;
            break;
        }
    }
    if (found != NULL || store_name_count == STORE_NAME_SLOTS ||
        list_sections(&sections, &count) != 0) {
        pthread_mutex_unlock(&store_names_lock);
        return found;
    }
    for (size_t i = 0; i < count && found == NULL; i++) {
        const ebpf_stored_section_t *section = &sections[i];
        uint32_t candidate = is_attach_type ? section->bpf_attach_type : section->bpf_program_type;
        if (candidate != number)
            continue;
        store_name_t *slot = &store_names[store_name_count];
        slot->is_attach_type = is_attach_type;
        slot->number = number;
        /* A program type is named by its program information, else (as an attach type) by
         * the section prefix that means it. */
        if (is_attach_type ||
            !api_program_type_name(&section->program_type, slot->name, sizeof(slot->name)))
            snprintf(slot->name, sizeof(slot->name), "%s", section->section_prefix);
        store_name_count++;
        found = slot->name;
    }
    pthread_mutex_unlock(&store_names_lock);
    ebpf_free(sections);
    return found;
}

const char *libbpf_bpf_prog_type_str(enum bpf_prog_type t)
{
    if ((size_t)t < EBPF_ARRAY_SIZE(prog_type_names) && prog_type_names[t] != NULL)
        return prog_type_names[t];
    return store_type_name(false, (uint32_t)t);
}

const char *libbpf_bpf_attach_type_str(enum bpf_attach_type t)
{
    if ((size_t)t < EBPF_ARRAY_SIZE(attach_type_names) && attach_type_names[t] != NULL)
        return attach_type_names[t];
    return store_type_name(true, (uint32_t)t);
}

const char *libbpf_bpf_map_type_str(enum bpf_map_type t)
{
    if ((size_t)t < EBPF_ARRAY_SIZE(map_type_names))
        return map_type_names[t];
    return NULL;
}

const char *libbpf_bpf_link_type_str(enum bpf_link_type t)
{
    if ((size_t)t < EBPF_ARRAY_SIZE(link_type_names))
        return link_type_names[t];
    return NULL;
}
