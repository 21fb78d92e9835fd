# Ahead-of-time halogen kernels in a CMake project, generated at build time by `halogen aot`.
#
#   set(HALOGEN_EXECUTABLE /path/to/halogen)           # the halogen command line (required)
#   include(/path/to/halogen/cmake/HalogenKernels.cmake)
#
#   halogen_add_kernel_library(dw_grad NAME dw_grad DTYPE float LAYOUT NHWC
#                              [TARGET host|host-cuda|host-opencl] [FEATURES avx512 avx2] [SCHEDULE name])
#   halogen_add_kernel_runtime(halogen_runtime [TARGET host|host-cuda|host-opencl])
#   target_link_libraries(app PRIVATE dw_grad halogen_runtime)
#
# Each kernel library is an INTERFACE target carrying NAME.a and the folder with NAME.h and NAME_halogen.h
# (#include "NAME_halogen.h", call halogen_aot::NAME_run). Link one runtime per program, whatever number
# of kernel libraries it uses; a host-cuda or host-opencl runtime also serves host kernels.

if(NOT HALOGEN_EXECUTABLE)
  message(FATAL_ERROR "HalogenKernels.cmake: set HALOGEN_EXECUTABLE to the halogen command line first")
endif()
find_package(Threads REQUIRED)

function(halogen_add_kernel_library target)
  cmake_parse_arguments(ARG "" "NAME;DTYPE;LAYOUT;TARGET;SCHEDULE" "FEATURES" ${ARGN})
  if(NOT ARG_NAME)
    set(ARG_NAME ${target})
  endif()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/halogen_kernels/${ARG_NAME}")
  set(flags --name ${ARG_NAME} --out ${out})
  foreach(field DTYPE LAYOUT TARGET SCHEDULE)
    if(ARG_${field})
      string(TOLOWER ${field} flag)
      list(APPEND flags --${flag} ${ARG_${field}})
    endif()
  endforeach()
  if(ARG_FEATURES)
    string(REPLACE ";" "," features "${ARG_FEATURES}")
    list(APPEND flags --features ${features})
  endif()
  add_custom_command(
    OUTPUT "${out}/${ARG_NAME}.a" "${out}/${ARG_NAME}.h" "${out}/${ARG_NAME}_halogen.h"
    COMMAND "${HALOGEN_EXECUTABLE}" aot kernel ${flags}
    DEPENDS "${HALOGEN_EXECUTABLE}"
    COMMENT "halogen aot kernel ${ARG_NAME}"
    VERBATIM)
  add_custom_target(${target}_generate DEPENDS "${out}/${ARG_NAME}.a")
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_generate)
  target_include_directories(${target} INTERFACE "${out}" "${out}/include")
  target_link_libraries(${target} INTERFACE "${out}/${ARG_NAME}.a")
endfunction()

function(halogen_add_kernel_runtime target)
  cmake_parse_arguments(ARG "" "TARGET" "" ${ARGN})
  set(out "${CMAKE_CURRENT_BINARY_DIR}/halogen_kernels/${target}")
  set(flags --name ${target} --out ${out})
  if(ARG_TARGET)
    list(APPEND flags --target ${ARG_TARGET})
  endif()
  add_custom_command(
    OUTPUT "${out}/${target}.a"
    COMMAND "${HALOGEN_EXECUTABLE}" aot runtime ${flags}
    DEPENDS "${HALOGEN_EXECUTABLE}"
    COMMENT "halogen aot runtime ${target}"
    VERBATIM)
  add_custom_target(${target}_generate DEPENDS "${out}/${target}.a")
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_generate)
  target_include_directories(${target} INTERFACE "${out}/include")
  target_link_libraries(${target} INTERFACE "${out}/${target}.a" Threads::Threads ${CMAKE_DL_LIBS})
endfunction()
