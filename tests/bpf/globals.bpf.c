/* Test object: global variables in .data, .rodata, .bss and custom .data.* / .rodata.* sections. */
#include "bpf_helpers.h"

/* .data: initialised, writable. */
__u32 packet_limit = 0x11223344;
__u64 start_time = 0x0102030405060708ULL;

/* .rodata: constant. */
const volatile __u32 protocol_filter = 6;
const volatile __u16 port_filter = 443;

/* .bss: zero-initialised. */
__u64 packets_seen;
__u32 drops[4];

/* Named sections become maps of their own. */
__u32 custom_counter SEC(".data.counters") = 0xCAFE;
const char custom_tag[8] SEC(".rodata.tags") = "tag0123";

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1);
} totals SEC(".maps");

SEC("netevent_monitor")
int count_packets(void *context)
{
    __u32 zero = 0;
    if (protocol_filter != 6 || port_filter == 0)
        return 0;
    packets_seen += 1;
    if (packets_seen > packet_limit) {
        drops[2] += 1;
        return 1;
    }
    start_time = bpf_ktime_get_ns();
    custom_counter += custom_tag[3];
    __u64 *total = bpf_map_lookup_elem(&totals, &zero);
    if (total)
        *total += packets_seen;
    bpf_printk("seen %llu", packets_seen);
    return 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";
__u32 _version SEC("version") = 0x050a00;
