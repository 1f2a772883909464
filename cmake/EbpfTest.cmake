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
