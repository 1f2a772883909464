/* A module ("driver") for the driver tests: reports its start and stop to the test program,
 * and fails to start when its parameters say "fail". */
#include <errno.h>
#include <string.h>

#include "ebpf_module.h"

/* Defined by the test executable (exported with ENABLE_EXPORTS), so the counts survive the
 * module's unload. */
void api_test_module_event(const char *event, const char *parameters);

static int module_start(const char *parameters)
{
    api_test_module_event("start", parameters);
    if (parameters != NULL && strstr(parameters, "fail") != NULL)
        return -EPROTO;
    return 0;
}

static void module_stop(void)
{
    api_test_module_event("stop", NULL);
}

EBPF_MODULE_DEFINE("api_test_module", module_start, module_stop);
