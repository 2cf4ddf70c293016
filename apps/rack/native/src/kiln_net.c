// kiln_net: the few socket calls Node's dgram cannot make, as a plain C N-API addon.
//
//   openUdp4({ address, port, device?, broadcast?, reuseAddr?, rcvbuf?, netns? }) -> fd
//
// Creates an AF_INET datagram socket, optionally bound to one network interface with
// SO_BINDTODEVICE (so every datagram it receives came in on that interface, and every datagram
// it sends leaves through it), sets SO_REUSEADDR / SO_BROADCAST / SO_RCVBUF, binds it, and
// returns the descriptor. Node adopts it with `dgram.createSocket('udp4').bind({ fd })`, so the
// event loop, sends and receives stay libuv's.
//
// `netns` (a path such as /run/netns/NAME) creates the socket inside that network namespace: the
// calling thread enters it with setns(2), creates and binds the socket, and returns to its own
// namespace before returning. A socket keeps the namespace it was created in, so a process can
// serve several namespaces (the e2e tests run the real server in the Jest process this way).
//
// Errors are thrown as JS Errors whose `code` is the errno name ("ENODEV", "EADDRINUSE", ...)
// and whose `syscall` names the failing step.
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(call)                                                                          \
  do {                                                                                       \
    if ((call) != napi_ok) {                                                                 \
      napi_throw_error(env, "EINTERNAL", "kiln_net: N-API call failed: " #call);           \
      return NULL;                                                                           \
    }                                                                                        \
  } while (0)

static napi_value throw_errno(napi_env env, const char* syscall, int err, const char* detail) {
  char msg[256];
  const char* name = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s%s%s: %s", syscall, detail ? " " : "", detail ? detail : "", strerror(err));
  napi_value code, message, error, sys;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_value errnoValue;
  napi_create_int32(env, err, &errnoValue);
  napi_set_named_property(env, error, "errno", errnoValue);
  napi_throw(env, error);
  return NULL;
}

/** Reads an optional string property into buf; returns 1 if present, 0 if absent, -1 on error. */
static int get_string(napi_env env, napi_value obj, const char* key, char* buf, size_t size) {
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return -1;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_undefined || t == napi_null) return 0;
  if (t != napi_string) return -1;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return -1;
  if (len + 1 >= size) return -1;
  return 1;
}

static int get_int(napi_env env, napi_value obj, const char* key, int64_t* out) {
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return -1;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_undefined || t == napi_null) return 0;
  if (t != napi_number) return -1;
  if (napi_get_value_int64(env, v, out) != napi_ok) return -1;
  return 1;
}

static int get_bool(napi_env env, napi_value obj, const char* key, bool* out) {
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return -1;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_undefined || t == napi_null) return 0;
  if (t != napi_boolean) return -1;
  if (napi_get_value_bool(env, v, out) != napi_ok) return -1;
  return 1;
}

static napi_value OpenUdp4(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "openUdp4: expected an options object");
    return NULL;
  }
  napi_value opts = argv[0];

  char address[64] = "0.0.0.0";
  char device[IFNAMSIZ + 1] = "";
  char netns[512] = "";
  int64_t port = 0, rcvbuf = 0;
  bool broadcast = false, reuse = false, hasDevice = false, hasNetns = false;

  int r;
  if ((r = get_string(env, opts, "address", address, sizeof address)) < 0) goto bad;
  if ((r = get_string(env, opts, "device", device, sizeof device)) < 0) goto bad;
  hasDevice = r == 1 && device[0] != '\0';
  if ((r = get_string(env, opts, "netns", netns, sizeof netns)) < 0) goto bad;
  hasNetns = r == 1 && netns[0] != '\0';
  if (get_int(env, opts, "port", &port) < 0 || port < 0 || port > 65535) goto bad;
  if (get_int(env, opts, "rcvbuf", &rcvbuf) < 0 || rcvbuf < 0 || rcvbuf > (1 << 30)) goto bad;
  if (get_bool(env, opts, "broadcast", &broadcast) < 0) goto bad;
  if (get_bool(env, opts, "reuseAddr", &reuse) < 0) goto bad;

  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) goto bad;

  int home = -1;
  if (hasNetns) {
    home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) return throw_errno(env, "open", errno, "/proc/thread-self/ns/net");
    int target = open(netns, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      int e = errno;
      close(home);
      return throw_errno(env, "open", e, netns);
    }
    if (setns(target, CLONE_NEWNET) != 0) {
      int e = errno;
      close(target);
      close(home);
      return throw_errno(env, "setns", e, netns);
    }
    close(target);
  }

  const char* failed = NULL;
  int err = 0;
  int one = 1;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    failed = "socket";
    err = errno;
  }
  if (!failed && reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    failed = "setsockopt SO_REUSEADDR";
    err = errno;
  }
  if (!failed && hasDevice && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, strlen(device) + 1) != 0) {
    failed = "setsockopt SO_BINDTODEVICE";
    err = errno;
  }
  if (!failed && broadcast && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) {
    failed = "setsockopt SO_BROADCAST";
    err = errno;
  }
  if (!failed && rcvbuf > 0) {
    int size = (int)rcvbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0) {
      failed = "setsockopt SO_RCVBUF";
      err = errno;
    }
  }
  if (!failed && bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
    failed = "bind";
    err = errno;
  }

  if (hasNetns) {
    // Return the thread to its own namespace whatever happened above.
    if (setns(home, CLONE_NEWNET) != 0 && !failed) {
      failed = "setns (return)";
      err = errno;
    }
    close(home);
  }
  if (failed) {
    if (fd >= 0) close(fd);
    return throw_errno(env, failed, err, hasDevice ? device : NULL);
  }

  napi_value result;
  CHECK(napi_create_int32(env, fd, &result));
  return result;

bad:
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                        "openUdp4: options are { address?: IPv4 string, port: 0..65535, device?: ifname, "
                        "netns?: path, broadcast?: boolean, reuseAddr?: boolean, rcvbuf?: bytes }");
  return NULL;
}

/** closeFd(fd): closes a descriptor that was never handed to libuv (error paths). */
static napi_value CloseFd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "closeFd: expected a descriptor");
    return NULL;
  }
  if (close(fd) != 0) return throw_errno(env, "close", errno, NULL);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openUdp4", NULL, OpenUdp4, NULL, NULL, NULL, napi_default, NULL},
      {"closeFd", NULL, CloseFd, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
