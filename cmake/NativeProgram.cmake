# ebpf_add_native_program(): one BPF C program into its BPF object and its native module.
#
#   ebpf_add_native_program(NAME name SOURCE file.c [INCLUDES dir...] [USE_LIBBPF_HEADERS]
#                           [TYPE type] [EXPORT_TOOLS target...])
#
# Builds ${EBPF_BPF_OBJECT_DIR}/<name>.o as ebpf_add_bpf_object does (target bpf_<name>), then
# translates it with bpf2c (every program verified) and compiles the C into <name>.so next to
# it (target native_<name>, part of ALL; path in global property EBPF_NATIVE_MODULE_<name>).
# The module is compiled with the project's flags (-Wall -Wextra -Werror, sanitizers) and exports
# only its metadata table. bpf2c types the programs through a private eBPF store,
# ${CMAKE_BINARY_DIR}/native-store, which the EXPORT_TOOLS (default:
# netevent_ebpf_ext_export_program_info) fill first; TYPE is bpf2c's --type.
set(EBPF_NATIVE_STORE_DIR ${CMAKE_BINARY_DIR}/native-store)

function(ebpf_add_native_program)
    cmake_parse_arguments(N "USE_LIBBPF_HEADERS" "NAME;SOURCE;TYPE" "INCLUDES;EXPORT_TOOLS"
                          ${ARGN})
    if(NOT N_NAME OR NOT N_SOURCE)
        message(FATAL_ERROR "ebpf_add_native_program: NAME and SOURCE are required")
    endif()
    if(NOT N_EXPORT_TOOLS)
        set(N_EXPORT_TOOLS netevent_ebpf_ext_export_program_info)
    endif()
    set(object_options "")
    if(N_USE_LIBBPF_HEADERS)
        list(APPEND object_options USE_LIBBPF_HEADERS)
    endif()
    ebpf_add_bpf_object(NAME ${N_NAME} SOURCE ${N_SOURCE} INCLUDES ${N_INCLUDES}
                        ${object_options})

    set(object ${EBPF_BPF_OBJECT_DIR}/${N_NAME}.o)
    set(generated ${CMAKE_CURRENT_BINARY_DIR}/${N_NAME}.native.c)
    set(stamps "")
    foreach(tool ${N_EXPORT_TOOLS})
        set(stamp ${CMAKE_CURRENT_BINARY_DIR}/${N_NAME}.${tool}.stamp)
        add_custom_command(
            OUTPUT ${stamp}
            COMMAND ${CMAKE_COMMAND} -E env EBPF_STORE_DIR=${EBPF_NATIVE_STORE_DIR}
                    $<TARGET_FILE:${tool}>
            COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
            DEPENDS ${tool}
            COMMENT "Exporting program information for ${N_NAME}.so (${tool})"
            VERBATIM)
        list(APPEND stamps ${stamp})
    endforeach()
    set(type_option "")
    if(N_TYPE)
        set(type_option --type ${N_TYPE})
    endif()
    add_custom_command(
        OUTPUT ${generated}
        COMMAND ${CMAKE_COMMAND} -E env EBPF_STORE_DIR=${EBPF_NATIVE_STORE_DIR}
                $<TARGET_FILE:bpf2c> ${object} ${type_option} -o ${generated}
        DEPENDS ${object} bpf_${N_NAME} bpf2c ${stamps}
        COMMENT "Translating ${N_NAME}.o into native code (bpf2c)"
        VERBATIM)

    add_library(native_${N_NAME} MODULE ${generated})
    target_include_directories(native_${N_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/include)
    set_target_properties(native_${N_NAME} PROPERTIES
        PREFIX ""
        OUTPUT_NAME ${N_NAME}
        LIBRARY_OUTPUT_DIRECTORY ${EBPF_BPF_OBJECT_DIR}
        C_VISIBILITY_PRESET hidden)
    set_property(GLOBAL PROPERTY EBPF_NATIVE_MODULE_${N_NAME} ${EBPF_BPF_OBJECT_DIR}/${N_NAME}.so)
endfunction()
