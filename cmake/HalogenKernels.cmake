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

# The part both helpers share: `halogen aot <what> <flags>` writes <out>/<stem>.a (and the other OUTPUTS);
# <target> is an INTERFACE library carrying it, built before anything that links it.
function(_halogen_generated_library target what out stem flags outputs)
  add_custom_command(
    OUTPUT "${out}/${stem}.a" ${outputs}
    COMMAND "${HALOGEN_EXECUTABLE}" aot ${what} ${flags}
    DEPENDS "${HALOGEN_EXECUTABLE}"
    COMMENT "halogen aot ${what} ${stem}"
    VERBATIM)
  add_custom_target(${target}_generate DEPENDS "${out}/${stem}.a")
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_generate)
  target_include_directories(${target} INTERFACE "${out}/include")
  target_link_libraries(${target} INTERFACE "${out}/${stem}.a")
endfunction()

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
  _halogen_generated_library(${target} kernel "${out}" ${ARG_NAME} "${flags}"
                             "${out}/${ARG_NAME}.h;${out}/${ARG_NAME}_halogen.h")
  target_include_directories(${target} INTERFACE "${out}")
endfunction()

function(halogen_add_kernel_runtime target)
  cmake_parse_arguments(ARG "" "TARGET" "" ${ARGN})
  set(out "${CMAKE_CURRENT_BINARY_DIR}/halogen_kernels/${target}")
  set(flags --name ${target} --out ${out})
  if(ARG_TARGET)
    list(APPEND flags --target ${ARG_TARGET})
  endif()
  _halogen_generated_library(${target} runtime "${out}" ${target} "${flags}" "")
  target_link_libraries(${target} INTERFACE Threads::Threads ${CMAKE_DL_LIBS})
endfunction()
