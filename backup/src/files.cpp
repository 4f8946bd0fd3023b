#include "files.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace holomush::backup {
namespace {

using common::ErrorKind;
using common::MakeError;

common::Error SystemError(const std::string& what, const std::string& path) {
  return MakeError(ErrorKind::kInternal, what + " " + path + ": " + std::strerror(errno));
}

constexpr size_t kMaxSmallFile = size_t{1} << 20;

int OpenRetrying(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

common::Status FsyncPath(const std::string& path, int flags, const std::string& what) {
  int fd = OpenRetrying(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return SystemError("cannot open " + what, path);
  if (::fsync(fd) != 0) {
    auto err = SystemError("cannot fsync " + what, path);
    ::close(fd);
    return err;
  }
  ::close(fd);
  return common::Ok{};
}

}  // namespace

common::Status FsyncFile(const std::string& path) { return FsyncPath(path, O_RDONLY, "file"); }

common::Status FsyncDirectory(const std::string& dir) {
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY, "directory");
}

common::Status WriteFileSynced(const std::string& path, const std::string& content) {
  int fd = OpenRetrying(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SystemError("cannot create", path);
  auto fail = [&](const std::string& what) {
    auto err = SystemError(what, path);
    ::close(fd);
    ::unlink(path.c_str());
    return err;
  };
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync");
  if (::close(fd) != 0) {
    auto err = SystemError("cannot close", path);
    ::unlink(path.c_str());
    return err;
  }
  return common::Ok{};
}

common::Status RenameFile(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return MakeError(ErrorKind::kInternal,
                     "cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  return common::Ok{};
}

bool RemoveIfExists(const std::string& path) { return ::unlink(path.c_str()) == 0; }

common::Result<std::string> ReadSmallFile(const std::string& path) {
  int fd = OpenRetrying(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return MakeError(ErrorKind::kNotFound, path + " does not exist");
    return SystemError("cannot open", path);
  }
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = SystemError("cannot read", path);
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxSmallFile) {
      ::close(fd);
      return MakeError(ErrorKind::kInvalid, path + " is larger than 1 MiB");
    }
  }
  ::close(fd);
  return out;
}

common::Result<std::string> Sha256OfFile(const std::string& path) {
  int fd = OpenRetrying(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SystemError("cannot open", path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    ::close(fd);
    return MakeError(ErrorKind::kInternal, "OpenSSL cannot start a SHA-256 digest");
  }
  std::string buf(1 << 20, '\0');
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = SystemError("cannot read", path);
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

common::Result<std::unique_ptr<DirectoryLock>> DirectoryLock::Acquire(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kLockFileName).string();
  int fd = OpenRetrying(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return SystemError("cannot open lock file", path);
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int e = errno;
    std::string holder;
    char buf[32] = {};
    if (::pread(fd, buf, sizeof buf - 1, 0) > 0) holder = buf;
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd);
    if (e == EWOULDBLOCK) {
      return MakeError(ErrorKind::kConflict,
                       "another backup run holds " + path +
                           (holder.empty() ? std::string() : " (pid " + holder + ")"));
    }
    errno = e;
    return SystemError("cannot lock", path);
  }
  // The holder's pid, for the message a refused run prints; best effort.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t w = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return std::unique_ptr<DirectoryLock>(new DirectoryLock(fd));
}

DirectoryLock::~DirectoryLock() {
  // Closing releases the flock; the pid is left behind, harmless once nobody holds the lock.
  ::close(fd_);
}

}  // namespace holomush::backup
