/* What the netevent_sim module exports besides its entry: statistics, looked up with dlsym by
 * tests and tools that loaded the module. */
#ifndef NETEVENT_SIM_H
#define NETEVENT_SIM_H

#include <stdint.h>

#include "ebpf_extension_header.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Load parameters (also the keys of <store>/Parameters/netevent_sim.json) and environment. */
#define NETEVENT_SIM_PARAMETER_INTERVAL   "NetEventInterval" /* microseconds; 0 = flat out */
#define NETEVENT_SIM_PARAMETER_BURST      "NetEventBurst"    /* events per tick */
#define NETEVENT_SIM_ENVIRONMENT_INTERVAL "NETEVENT_SIM_INTERVAL_US"
#define NETEVENT_SIM_ENVIRONMENT_BURST    "NETEVENT_SIM_BURST"
#define NETEVENT_SIM_DEFAULT_INTERVAL_US  1000
#define NETEVENT_SIM_DEFAULT_BURST        1
/* Events per tick when the interval is 0 and no burst was given. */
#define NETEVENT_SIM_FAST_BURST 256

typedef struct netevent_sim_statistics {
    ebpf_extension_header_t header; /* set by the caller: NETEVENT_SIM_STATISTICS_VERSION */
    /* Events built and offered to at least one client. The sequence number of the last one. */
    uint64_t events_produced;
    /* push_event calls that returned >= 0, and < 0. With one client bound throughout,
     * events_produced == events_pushed + events_refused; with k clients, each event counts
     * once per client it reached. */
    uint64_t events_pushed;
    uint64_t events_refused;
    uint64_t ticks;         /* timer callbacks run */
    uint64_t clients_bound; /* clients bound now */
    uint64_t interval_us;   /* in effect since start */
    uint64_t burst;         /* events per tick in effect */
} netevent_sim_statistics_t;
#define NETEVENT_SIM_STATISTICS_VERSION 1

/* Fills the fields that fit in statistics->header.size (a newer caller may pass a larger
 * struct; the rest is left untouched). Counters restart when the module starts. 0, or -EINVAL
 * for NULL or a size smaller than the header. */
int netevent_sim_get_statistics(netevent_sim_statistics_t *statistics);
typedef int (*netevent_sim_get_statistics_fn)(netevent_sim_statistics_t *statistics);
#define NETEVENT_SIM_STATISTICS_SYMBOL "netevent_sim_get_statistics"

#ifdef __cplusplus
}
#endif

#endif /* NETEVENT_SIM_H */
