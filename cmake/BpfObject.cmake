# ebpf_add_bpf_object(): compiles one BPF C program into an ELF object with clang -target bpf.
#
#   ebpf_add_bpf_object(NAME name SOURCE file.c [INCLUDES dir...] [USE_LIBBPF_HEADERS])
#
# Output: ${CMAKE_BINARY_DIR}/bpf/<name>.o, built by custom target bpf_<name> (part of ALL).
# The path is also published as global property EBPF_BPF_OBJECT_<name>, and every object lands
# in EBPF_BPF_OBJECT_DIR, so tests can find them:
#   get_property(object GLOBAL PROPERTY EBPF_BPF_OBJECT_maps_all)
# USE_LIBBPF_HEADERS adds the multiarch include directory that Debian's libbpf-dev
# <bpf/bpf_helpers.h> needs (for <asm/types.h>); without it only include/ is visible, as for a
# program written against our bpf_helpers.h.
find_program(EBPF_BPF_CLANG NAMES clang clang-14 DOC "clang used to compile BPF programs")
set(EBPF_BPF_OBJECT_DIR ${CMAKE_BINARY_DIR}/bpf)

function(ebpf_add_bpf_object)
    cmake_parse_arguments(B "USE_LIBBPF_HEADERS" "NAME;SOURCE" "INCLUDES" ${ARGN})
    if(NOT B_NAME OR NOT B_SOURCE)
        message(FATAL_ERROR "ebpf_add_bpf_object: NAME and SOURCE are required")
    endif()
    if(NOT EBPF_BPF_CLANG)
        message(FATAL_ERROR "ebpf_add_bpf_object(${B_NAME}): clang not found; install clang")
    endif()
    get_filename_component(source ${B_SOURCE} ABSOLUTE)
    set(output ${EBPF_BPF_OBJECT_DIR}/${B_NAME}.o)
    set(flags -O2 -g -target bpf -Wall -Werror -I${CMAKE_SOURCE_DIR}/include)
    foreach(dir ${B_INCLUDES})
        get_filename_component(dir ${dir} ABSOLUTE)
        list(APPEND flags -I${dir})
    endforeach()
    if(B_USE_LIBBPF_HEADERS)
        if(CMAKE_LIBRARY_ARCHITECTURE)
            list(APPEND flags -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
        else()
            message(FATAL_ERROR "ebpf_add_bpf_object(${B_NAME}): no multiarch directory known "
                                "for libbpf headers")
        endif()
    endif()
    # The BPF-side headers are listed explicitly as well as through the depfile, so a build
    # tool without depfile support still rebuilds when they change.
    file(GLOB bpf_headers ${CMAKE_SOURCE_DIR}/include/bpf_*.h)
    add_custom_command(
        OUTPUT ${output}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${EBPF_BPF_OBJECT_DIR}
        COMMAND ${EBPF_BPF_CLANG} ${flags} -MD -MF ${output}.d -c ${source} -o ${output}
        DEPENDS ${source} ${bpf_headers}
        DEPFILE ${output}.d
        COMMENT "Compiling BPF object ${B_NAME}.o"
        VERBATIM)
    add_custom_target(bpf_${B_NAME} ALL DEPENDS ${output})
    set_property(GLOBAL PROPERTY EBPF_BPF_OBJECT_${B_NAME} ${output})
    set_property(GLOBAL APPEND PROPERTY EBPF_BPF_OBJECTS ${B_NAME})
endfunction()
