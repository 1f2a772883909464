/* A shared object without an ebpf_module_entry: what ebpf_driver_load must refuse. */
int api_test_not_a_module(void);

int api_test_not_a_module(void)
{
    return 1;
}
