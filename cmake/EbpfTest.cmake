# ebpf_add_test(): one cmocka (or self-checking) test executable registered with ctest.
#
#   ebpf_add_test(NAME name SOURCES a.c b.c LIBS lib... [TIMEOUT s] [LABELS l...] [ARGS a...])
#
# Every test gets a private eBPF store and a default timeout so a hang fails instead of
# stalling CI.
function(ebpf_add_test)
    cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 120)
    endif()
    add_executable(${T_NAME} ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} PkgConfig::CMOCKA Threads::Threads)
    add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
    set_tests_properties(${T_NAME} PROPERTIES
        TIMEOUT ${T_TIMEOUT}
        LABELS "${T_LABELS}"
        ENVIRONMENT "EBPF_STORE_DIR=${CMAKE_BINARY_DIR}/test-store/${T_NAME}")
endfunction()

# ebpf_add_test_variant(): runs an ebpf_add_test executable again under other environment
# variables, as its own ctest entry named <name>_<suffix> (same timeout and labels).
#
#   ebpf_add_test_variant(NAME name SUFFIX suffix ENV VAR=value...)
function(ebpf_add_test_variant)
    cmake_parse_arguments(V "" "NAME;SUFFIX" "ENV" ${ARGN})
    get_test_property(${V_NAME} TIMEOUT timeout)
    get_test_property(${V_NAME} LABELS labels)
    add_test(NAME ${V_NAME}_${V_SUFFIX} COMMAND ${V_NAME})
    set_tests_properties(${V_NAME}_${V_SUFFIX} PROPERTIES
        TIMEOUT ${timeout}
        LABELS "${labels}"
        ENVIRONMENT "EBPF_STORE_DIR=${CMAKE_BINARY_DIR}/test-store/${V_NAME}_${V_SUFFIX};${V_ENV}")
endfunction()
