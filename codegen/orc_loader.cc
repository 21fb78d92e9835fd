#include "codegen/orc_loader.h"

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "halogen/codegen/kernel_scratch.h"
#include "halogen/codegen/kernel_threads.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

namespace halogen {
namespace codegen {
namespace {

thread_local std::string kernel_errors;

extern "C" void HalogenLoadedRuntimeError(void* /*user_context*/, const char* message) {
  kernel_errors += message;
}

std::string ErrorText(llvm::Error error) { return llvm::toString(std::move(error)); }

struct Loader {
  std::mutex mutex;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  llvm::orc::JITDylib* runtime = nullptr;
  absl::StatusOr<LoadedRuntime> loaded = absl::FailedPreconditionError("the Halide runtime object is not loaded");
  int next_dylib = 0;
  std::string last_session_error;
};

Loader& TheLoader() {
  static Loader* const loader = new Loader();  // never destroyed: loaded code may run during exit
  return *loader;
}

absl::StatusOr<LoadedRuntime> LoadRuntimeLocked(Loader& l, absl::string_view object) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit) return absl::InternalError(absl::StrCat("cannot start ORC LLJIT: ", ErrorText(jit.takeError())));
  l.jit = std::move(*jit);
  auto& session = l.jit->getExecutionSession();
  session.setErrorReporter([&l](llvm::Error error) { l.last_session_error = ErrorText(std::move(error)); });
  auto runtime = session.createJITDylib("halogen_runtime");
  if (!runtime) return absl::InternalError(ErrorText(runtime.takeError()));
  l.runtime = &*runtime;
  // The C library and the process's own symbols (the error handler below) resolve what the runtime needs.
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      l.jit->getDataLayout().getGlobalPrefix());
  if (!process) return absl::InternalError(ErrorText(process.takeError()));
  l.runtime->addGenerator(std::move(*process));
  if (llvm::Error error = l.jit->addObjectFile(
          *l.runtime, llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object.data(), object.size()),
                                                             "halide_runtime.o"))) {
    return absl::InternalError(absl::StrCat("cannot add the Halide runtime object: ", ErrorText(std::move(error))));
  }
  LoadedRuntime loaded;
  auto threads = l.jit->lookup(*l.runtime, "halide_set_num_threads");
  auto handler = l.jit->lookup(*l.runtime, "halide_set_error_handler");
  auto set_malloc = l.jit->lookup(*l.runtime, "halide_set_custom_malloc");
  auto set_free = l.jit->lookup(*l.runtime, "halide_set_custom_free");
  auto set_par_for = l.jit->lookup(*l.runtime, "halide_set_custom_do_par_for");
  auto default_par_for = l.jit->lookup(*l.runtime, "halide_default_do_par_for");
  if (!threads || !handler || !set_malloc || !set_free || !set_par_for || !default_par_for) {
    std::string why;
    if (!threads) why += ErrorText(threads.takeError());
    if (!handler) why += ErrorText(handler.takeError());
    if (!set_malloc) why += ErrorText(set_malloc.takeError());
    if (!set_free) why += ErrorText(set_free.takeError());
    if (!set_par_for) why += ErrorText(set_par_for.takeError());
    if (!default_par_for) why += ErrorText(default_par_for.takeError());
    return absl::InternalError(absl::StrCat("the Halide runtime object lacks its entry points: ", why));
  }
  loaded.set_num_threads = threads->toPtr<int (*)(int)>();
  using SetHandler = void* (*)(void (*)(void*, const char*));
  handler->toPtr<SetHandler>()(&HalogenLoadedRuntimeError);
  // Before any kernel runs, so that every block this runtime frees came from the same allocator.
  set_malloc->toPtr<halide_malloc_t (*)(halide_malloc_t)>()(&ScratchHalideMalloc);
  set_free->toPtr<halide_free_t (*)(halide_free_t)>()(&ScratchHalideFree);
  // Parallel loops run on the pool of kernel_threads.h; those that find it taken (another thread's call)
  // on this runtime's own pool.
  kernel_threads_internal::ThePool().SetFallback(default_par_for->toPtr<halide_do_par_for_t>());
  set_par_for->toPtr<halide_do_par_for_t (*)(halide_do_par_for_t)>()(&KernelThreadsDoParFor);
  return loaded;
}

}  // namespace

absl::StatusOr<LoadedRuntime> LoadRuntimeObject(absl::string_view object) {
  Loader& l = TheLoader();
  std::lock_guard<std::mutex> lock(l.mutex);
  if (!l.loaded.ok()) {
    l.loaded = LoadRuntimeLocked(l, object);
    if (!l.loaded.ok()) {
      // Nothing has been loaded yet: start from a clean JIT next time (with another object).
      l.runtime = nullptr;
      l.jit.reset();
    }
  }
  return l.loaded;
}

absl::StatusOr<DepthwiseKernelFn> LoadKernelObject(absl::string_view object, const std::string& symbol) {
  Loader& l = TheLoader();
  std::lock_guard<std::mutex> lock(l.mutex);
  if (!l.loaded.ok()) return l.loaded.status();
  auto& session = l.jit->getExecutionSession();
  auto dylib = session.createJITDylib(absl::StrCat("halogen_kernel_", l.next_dylib++));
  if (!dylib) return absl::InternalError(ErrorText(dylib.takeError()));
  dylib->addToLinkOrder(*l.runtime);
  const auto drop = [&](std::string why) {
    if (llvm::Error error = session.removeJITDylib(*dylib)) llvm::consumeError(std::move(error));
    return absl::InternalError(std::move(why));
  };
  if (llvm::Error error = l.jit->addObjectFile(
          *dylib, llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object.data(), object.size()), symbol))) {
    return drop(absl::StrCat("cannot add the kernel object: ", ErrorText(std::move(error))));
  }
  l.last_session_error.clear();
  auto address = l.jit->lookup(*dylib, symbol);
  if (!address) {
    return drop(absl::StrCat("cannot link the kernel object: ", ErrorText(address.takeError()), " ",
                             l.last_session_error));
  }
  return address->toPtr<DepthwiseKernelFn>();
}

std::string TakeLoadedKernelErrors() {
  std::string errors;
  errors.swap(kernel_errors);
  return errors;
}

std::string LoaderSignature() { return absl::StrCat("llvm-", LLVM_VERSION_STRING, "/reloc-pic/code-model-small"); }

}  // namespace codegen
}  // namespace halogen
