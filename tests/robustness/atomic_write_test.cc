// A process killed while writing a file (command-line output, kernel-cache entry: both go through
// WriteFileAtomically) leaves either the old file or the complete new one, never a partial file under the
// real name.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "halogen/dsl/atomic_file.h"

TEST_CASE("a writer killed mid-write leaves the old file or the whole new one") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "halogen_atomic_write_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "out.npy").string();
  const std::string old_contents = "the previous, complete file";
  REQUIRE(halogen::WriteFileAtomically(path, old_contents).ok());
  const std::string new_contents(size_t{192} << 20, 'n');  // big enough to be caught mid-write
  for (int delay_us : {0, 2000, 20000, 80000}) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      (void)halogen::WriteFileAtomically(path, new_contents);
      _exit(0);
    }
    usleep(static_cast<useconds_t>(delay_us));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    absl::StatusOr<std::string> now = halogen::ReadWholeFile(path);
    REQUIRE(now.ok());
    INFO("killed after " << delay_us << " us; the file has " << now->size() << " bytes");
    CHECK((*now == old_contents || *now == new_contents));
  }
  std::filesystem::remove_all(dir);
}
