/* Programs written for Linux (libbpf headers, Linux section names) that ebpfverify must accept
 * with its Linux program types. */
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct flow {
    __u32 source, destination;
    __u16 source_port, destination_port;
    __u8 protocol;
    __u8 padding[3];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct flow);
    __type(value, __u64);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 16);
} events SEC(".maps");

static __always_inline void count(__u32 index)
{
    __u64 *value = bpf_map_lookup_elem(&counters, &index);
    if (value)
        __sync_fetch_and_add(value, 1);
}

/* A small XDP parser: Ethernet, IPv4 with options, TCP or UDP ports, a flow table. */
SEC("xdp")
int good_xdp_parser(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *ethernet = data;
    struct flow key = {};

    if ((void *)(ethernet + 1) > end)
        return XDP_PASS;
    if (ethernet->h_proto != bpf_htons(ETH_P_IP)) {
        count(0);
        return XDP_PASS;
    }
    struct iphdr *ip = (void *)(ethernet + 1);
    if ((void *)(ip + 1) > end)
        return XDP_DROP;
    __u32 header_length = ip->ihl * 4;
    if (header_length < sizeof(*ip))
        return XDP_DROP;
    key.source = ip->saddr;
    key.destination = ip->daddr;
    key.protocol = ip->protocol;
    void *transport = (void *)ip + header_length;
    if (key.protocol == IPPROTO_TCP) {
        struct tcphdr *tcp = transport;
        if ((void *)(tcp + 1) > end)
            return XDP_DROP;
        key.source_port = tcp->source;
        key.destination_port = tcp->dest;
        if (tcp->syn)
            count(1);
    } else if (key.protocol == IPPROTO_UDP) {
        struct udphdr *udp = transport;
        if ((void *)(udp + 1) > end)
            return XDP_DROP;
        key.source_port = udp->source;
        key.destination_port = udp->dest;
    }
    __u64 one = 1, *packets = bpf_map_lookup_elem(&flows, &key);
    if (packets)
        __sync_fetch_and_add(packets, 1);
    else
        bpf_map_update_elem(&flows, &key, &one, BPF_ANY);
    return XDP_PASS;
}

/* Flags gathered over many independent branches: only pruning of imprecise scalars keeps the
 * paths from doubling at each one. */
SEC("xdp")
int good_xdp_flags(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u8 *bytes = data;
    __u64 flags = 0;
    __u32 score = 0;

    if (data + 24 > end)
        return XDP_PASS;
#define FLAG(i)                                                                                    \
    if (bytes[i] & 1) {                                                                            \
        flags |= 1ull << i;                                                                        \
        score += i;                                                                                \
    }
    FLAG(0);
    FLAG(1);
    FLAG(2);
    FLAG(3);
    FLAG(4);
    FLAG(5);
    FLAG(6);
    FLAG(7);
    FLAG(8);
    FLAG(9);
    FLAG(10);
    FLAG(11);
    FLAG(12);
    FLAG(13);
    FLAG(14);
    FLAG(15);
    FLAG(16);
    FLAG(17);
    FLAG(18);
    FLAG(19);
    FLAG(20);
    FLAG(21);
    FLAG(22);
    FLAG(23);
    __u32 zero = 0;
    __u64 *out = bpf_map_lookup_elem(&counters, &zero);
    if (out)
        *out = flags + score;
    return XDP_PASS;
}

/* A bounded loop over the packet, and a write to a writable __sk_buff field. */
SEC("tc")
int good_tc_checksum(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *end = (void *)(long)skb->data_end;
    __u32 sum = 0;

    for (int i = 0; i < 64; i++) {
        __u8 *byte = data + i;
        if ((void *)(byte + 1) > end)
            break;
        sum += *byte;
    }
    skb->mark = sum;
    return 0;
}

SEC("socket")
int good_socket_filter(struct __sk_buff *skb)
{
    __u8 header[14];
    if (bpf_skb_load_bytes(skb, 0, header, sizeof(header)) < 0)
        return 0;
    return header[12] == 0x08 ? skb->len : 0;
}

SEC("kprobe/do_sys_openat2")
int good_kprobe(struct pt_regs *regs)
{
    char command[16];
    struct event {
        __u64 pid_tgid;
        char command[16];
    } * event;

    bpf_get_current_comm(command, sizeof(command));
    event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
    if (!event)
        return 0;
    event->pid_tgid = bpf_get_current_pid_tgid();
    __builtin_memcpy(event->command, command, sizeof(command));
    bpf_ringbuf_submit(event, 0);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int good_tracepoint(void *ctx)
{
    __u32 key = *(__u64 *)(ctx + 32) & 7;
    __u64 *value = bpf_map_lookup_elem(&counters, &key);
    if (value)
        *value += 1;
    return 0;
}

SEC("raw_tracepoint/sched_switch")
int good_raw_tracepoint(struct bpf_raw_tracepoint_args *ctx)
{
    return ctx->args[0] != 0;
}

SEC("perf_event")
int good_perf_event(struct bpf_perf_event_data *ctx)
{
    __u32 key = ctx->sample_period & 7;
    count(key);
    return 0;
}

SEC("cgroup_skb/ingress")
int good_cgroup_skb(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *end = (void *)(long)skb->data_end;
    if (data + 1 > end)
        return 1;
    return *(__u8 *)data != 0xff;
}

SEC("sockops")
int good_sock_ops(struct bpf_sock_ops *ops)
{
    if (ops->op == BPF_SOCK_OPS_TCP_CONNECT_CB)
        ops->reply = 1;
    return 1;
}

char LICENSE[] SEC("license") = "GPL";
