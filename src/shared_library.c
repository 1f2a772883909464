/* libebpf.so: every layer in one shared library, so an application and the modules it loads
 * share one registrar, one core and one fd table. The code lives in the layers' archives. */
#include "ebpf_platform.h"

/* The library's version, for diagnostics. */
__attribute__((visibility("default"))) const char ebpf_library_version[] = "0.1.0";
