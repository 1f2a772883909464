/* Programs written for Linux that ebpfverify must reject, each for its own reason. Built apart
 * from the objects every verifier test expects to be accepted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

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

SEC("xdp")
int bad_null_dereference(struct xdp_md *ctx)
{
    __u32 key = ctx->ingress_ifindex;
    __u64 *value = bpf_map_lookup_elem(&counters, &key);
    return *value;
}

SEC("xdp")
int bad_off_by_one(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 14 > end)
        return XDP_PASS;
    return *(__u32 *)(data + 11);
}

SEC("xdp")
int bad_unreleased_record(struct xdp_md *ctx)
{
    __u64 *record = bpf_ringbuf_reserve(&events, 8, 0);
    if (!record)
        return XDP_PASS;
    if (ctx->ingress_ifindex == 3)
        return XDP_DROP;
    *record = 5;
    bpf_ringbuf_submit(record, 0);
    return XDP_PASS;
}

SEC("xdp")
int bad_context_write(struct xdp_md *ctx)
{
    ctx->rx_queue_index = 0;
    return XDP_PASS;
}

SEC("socket")
int bad_socket_direct_access(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *end = (void *)(long)skb->data_end;
    if (data + 1 > end)
        return 0;
    return *(__u8 *)data;
}

SEC("kprobe/do_exit")
int bad_helper_for_another_type(struct pt_regs *regs)
{
    return bpf_redirect(1, 0);
}

char LICENSE[] SEC("license") = "GPL";
