# Finds halogen's dependencies where scripts/bootstrap.sh puts them: Abseil, Catch2 and LLVM 19 from
# Debian, Halide from the halide wheel in the project's .venv.
find_package(absl REQUIRED)

if(NOT Halide_DIR)
  set(_halogen_python "${CMAKE_CURRENT_SOURCE_DIR}/.venv/bin/python")
  if(NOT EXISTS "${_halogen_python}")
    set(_halogen_python python3)
  endif()
  execute_process(
    COMMAND "${_halogen_python}" -c "import halide; print(halide.install_dir())"
    OUTPUT_VARIABLE _halide_root OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _halide_found)
  if(_halide_found EQUAL 0)
    set(Halide_DIR "${_halide_root}/lib64/cmake/Halide")
    set(HalideHelpers_DIR "${_halide_root}/lib64/cmake/HalideHelpers")
  endif()
endif()
find_package(Halide 21 REQUIRED)
get_filename_component(HALOGEN_HALIDE_ROOT "${Halide_DIR}/../../.." ABSOLUTE)

# LLVM 19 for the ORC loader of the on-disk kernel cache (Debian's llvm-19-dev).
find_package(LLVM REQUIRED CONFIG PATHS /usr/lib/llvm-19/lib/cmake/llvm NO_DEFAULT_PATH)
if(NOT LLVM_VERSION_MAJOR EQUAL 19)
  message(FATAL_ERROR "halogen needs LLVM 19 (Debian llvm-19-dev); found ${LLVM_PACKAGE_VERSION}")
endif()
find_library(HALOGEN_LLVM_LIBRARY NAMES LLVM LLVM-19 PATHS ${LLVM_LIBRARY_DIR} NO_DEFAULT_PATH REQUIRED)
