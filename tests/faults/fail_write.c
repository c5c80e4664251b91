/* An LD_PRELOAD shim that makes writes fail as a full or failing disk does, for the output-fault
 * tests. write(2) to a regular file (fd > 2) fails once SHRINK_FAULT_AFTER bytes have gone to such
 * files: with errno ENOSPC, or EIO when SHRINK_FAULT_ERRNO=EIO, after a short write of what still
 * fits. With SHRINK_FAULT_PAUSE=1 it stops there instead (the process waits for a signal), so that a
 * test can interrupt it mid-write. Without SHRINK_FAULT_AFTER it changes nothing. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void*, size_t);
static long long written;

ssize_t write(int fd, const void* buf, size_t n) {
  if (!real_write) real_write = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  const char* after = getenv("SHRINK_FAULT_AFTER");
  struct stat st;
  if (!after || fd <= 2 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return real_write(fd, buf, n);
  const long long limit = atoll(after);
  if (written + (long long)n <= limit) {
    const ssize_t k = real_write(fd, buf, n);
    if (k > 0) written += k;
    return k;
  }
  if (written < limit) {  /* what still fits goes first, as on a real disk */
    const ssize_t k = real_write(fd, buf, (size_t)(limit - written));
    if (k > 0) {
      written += k;
      return k;
    }
  }
  if (getenv("SHRINK_FAULT_PAUSE"))
    for (;;) pause();
  const char* e = getenv("SHRINK_FAULT_ERRNO");
  errno = e && strcmp(e, "EIO") == 0 ? EIO : ENOSPC;
  return -1;
}
