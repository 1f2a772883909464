/* The "api_test" program type for the user API tests: store entries, its program-information
 * provider and its hook provider, registered the way an extension does. */
#ifndef API_TEST_SUPPORT_H
#define API_TEST_SUPPORT_H

#include <stdint.h>

#include "api_test_type.h"
#include "ebpf_ext.h"
#include "ebpf_guid.h"

extern const ebpf_guid_t api_test_program_type;
extern const ebpf_guid_t api_test_attach_type;

/* Writes the program information and the "api_test" section to the (private) store. */
void api_test_store_export(void);
/* Registers the program-information provider (programs of the type bind to it). */
void api_test_program_info_register(void);
void api_test_program_info_unregister(void);
/* Registers the hook provider: attach parameters are none, or a uint32_t below 100. */
void api_test_hook_register(void);
void api_test_hook_unregister(void);
/* Runs every attached program on one context built from packet; returns how many ran. */
uint32_t api_test_hook_invoke(const void *packet, size_t size);
uint32_t api_test_hook_attached(void);

/* Path of a compiled test object in the build tree. */
const char *api_test_object(const char *name);

#endif
