#include "codegen/disk_cache.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "halogen/dsl/atomic_file.h"

namespace halogen {
namespace codegen {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kMagic = "HALOGEN-KERNEL-CACHE 1\n";
constexpr char kSuffix[] = ".hkc";

void AppendU64(std::string* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

bool ReadU64(absl::string_view* in, uint64_t* value) {
  if (in->size() < 8) return false;
  *value = 0;
  for (int i = 0; i < 8; ++i) *value |= static_cast<uint64_t>(static_cast<uint8_t>((*in)[i])) << (8 * i);
  in->remove_prefix(8);
  return true;
}

void EvictOldest(const fs::path& dir, int64_t max_bytes, const fs::path& keep) {
  struct Entry {
    fs::path path;
    fs::file_time_type time;
    int64_t size;
  };
  std::vector<Entry> entries;
  int64_t total = 0;
  std::error_code error;
  for (const auto& item : fs::directory_iterator(dir, error)) {
    if (item.path().extension() != kSuffix) continue;
    const int64_t size = static_cast<int64_t>(item.file_size(error));
    if (error) continue;
    entries.push_back({item.path(), item.last_write_time(error), size});
    total += size;
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.time < b.time; });
  for (const Entry& e : entries) {
    if (total <= max_bytes) break;
    if (e.path == keep) continue;
    if (fs::remove(e.path, error)) total -= e.size;
  }
}

}  // namespace

uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string DiskCacheEntryPath(const std::string& dir, const std::string& key) {
  return (fs::path(dir) / absl::StrFormat("%016x%s", Fnv1a64(key), kSuffix)).string();
}

absl::StatusOr<std::string> ReadDiskCacheEntry(const std::string& dir, const std::string& key) {
  const std::string path = DiskCacheEntryPath(dir, key);
  std::error_code error;
  if (!fs::exists(path, error)) return absl::NotFoundError(absl::StrCat("no cache entry ", path));
  absl::StatusOr<std::string> bytes = ReadWholeFile(path);
  if (!bytes.ok()) return absl::NotFoundError(bytes.status().message());  // removed meanwhile: a miss
  absl::string_view in = *bytes;
  uint64_t key_length = 0, payload_length = 0, checksum = 0;
  bool valid = in.substr(0, kMagic.size()) == kMagic;
  if (valid) in.remove_prefix(kMagic.size());
  valid = valid && ReadU64(&in, &key_length) && key_length <= in.size() && in.substr(0, key_length) == key;
  if (valid) in.remove_prefix(key_length);
  valid = valid && ReadU64(&in, &payload_length) && ReadU64(&in, &checksum) && payload_length == in.size() &&
          Fnv1a64(in) == checksum;
  if (!valid) {
    fs::remove(path, error);
    return absl::DataLossError(absl::StrCat("kernel cache entry ", path, " is corrupt or stale; removed it"));
  }
  return std::string(in);
}

absl::Status WriteDiskCacheEntry(const std::string& dir, const std::string& key, absl::string_view payload,
                                 int64_t max_bytes) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create the kernel cache folder ", dir, ": ", error.message()));
  std::string entry(kMagic);
  AppendU64(&entry, key.size());
  entry += key;
  AppendU64(&entry, payload.size());
  AppendU64(&entry, Fnv1a64(payload));
  entry.append(payload.data(), payload.size());
  const std::string path = DiskCacheEntryPath(dir, key);
  if (absl::Status s = WriteFileAtomically(path, entry); !s.ok()) return s;
  EvictOldest(dir, max_bytes, path);
  return absl::OkStatus();
}

}  // namespace codegen
}  // namespace halogen
