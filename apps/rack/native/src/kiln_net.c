// kiln_net: the few socket calls Node's dgram cannot make, as a plain C N-API addon.
//
//   openUdp4({ address, port, device?, broadcast?, reuseAddr?, rcvbuf?, netns? }) -> fd
//   startReceiver(fd, slab, meta, slotSize, onBatch) -> receiver
//   sendBatch(fd, buffers, addrs, ports, count) -> number sent
//   stopReceiver(receiver)
//   closeFd(fd)
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
// Batched I/O (the DHCP server's hot path): startReceiver watches the socket with a libuv poll
// handle on Node's own event loop and, when it is readable, drains it with recvmmsg(2) into the
// caller's slab (one slot per datagram) and calls onBatch(count) once per batch, with
// meta[3i..3i+2] = length, source address (host order), source port. sendBatch sends many
// replies with one sendmmsg(2). Per datagram this saves a JS callback, a Buffer, an rinfo
// object and a syscall compared to dgram.
//
// Errors are thrown as JS Errors whose `code` is the errno name ("ENODEV", "EADDRINUSE", ...)
// and whose `syscall` names the failing step.
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <stdlib.h>

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


// ---------------------------------------------------------------------------------------------
// Batched receive / send.

#define MAX_SLOTS 256
#define MAX_DRAINS 8

typedef struct {
  napi_env env;
  napi_ref callback;
  napi_ref slab_ref;
  napi_ref meta_ref;
  napi_async_context actx;
  uv_poll_t poll;
  int fd;
  uint8_t* slab;
  int32_t* meta;
  size_t slot_size;
  int slots;
  int stopped;
  struct mmsghdr msgs[MAX_SLOTS];
  struct iovec iov[MAX_SLOTS];
  struct sockaddr_in addrs[MAX_SLOTS];
} Receiver;

static void receiver_free(uv_handle_t* h) {
  Receiver* r = (Receiver*)h->data;
  free(r);
}

static void call_js(Receiver* r, int32_t count) {
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  if (napi_get_reference_value(env, r->callback, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &recv) == napi_ok && napi_create_int32(env, count, &arg) == napi_ok) {
    napi_status st = napi_make_callback(env, r->actx, recv, cb, 1, &arg, &result);
    if (st == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  Receiver* r = (Receiver*)handle->data;
  (void)events;
  if (r->stopped) return;
  if (status < 0) {
    call_js(r, status);
    return;
  }
  for (int round = 0; round < MAX_DRAINS && !r->stopped; round++) {
    for (int i = 0; i < r->slots; i++) {
      r->iov[i].iov_base = r->slab + (size_t)i * r->slot_size;
      r->iov[i].iov_len = r->slot_size;
      memset(&r->msgs[i].msg_hdr, 0, sizeof r->msgs[i].msg_hdr);
      r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
      r->msgs[i].msg_hdr.msg_iovlen = 1;
      r->msgs[i].msg_hdr.msg_name = &r->addrs[i];
      r->msgs[i].msg_hdr.msg_namelen = sizeof r->addrs[i];
      r->msgs[i].msg_len = 0;
    }
    int n = recvmmsg(r->fd, r->msgs, (unsigned)r->slots, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      call_js(r, -errno);
      return;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      uint32_t len = r->msgs[i].msg_len;
      // A datagram larger than its slot was cut: report it as one byte longer than the slot.
      if (r->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) len = (uint32_t)r->slot_size + 1;
      r->meta[3 * i] = (int32_t)len;
      r->meta[3 * i + 1] = (int32_t)ntohl(r->addrs[i].sin_addr.s_addr);
      r->meta[3 * i + 2] = (int32_t)ntohs(r->addrs[i].sin_port);
    }
    call_js(r, n);
    if (n < r->slots) return;
  }
}

/** startReceiver(fd, slab: Buffer, meta: Int32Array, slotSize, onBatch) -> external */
static napi_value StartReceiver(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "startReceiver(fd, slab, meta, slotSize, onBatch)");
    return NULL;
  }
  int32_t fd, slot_size;
  void* slab = NULL;
  size_t slab_len = 0;
  napi_typedarray_type mtype;
  size_t meta_len = 0;
  void* meta = NULL;
  napi_value mbuf;
  size_t moff;
  napi_valuetype cbt;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_get_buffer_info(env, argv[1], &slab, &slab_len) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &mtype, &meta_len, &meta, &mbuf, &moff) != napi_ok || mtype != napi_int32_array ||
      napi_get_value_int32(env, argv[3], &slot_size) != napi_ok || slot_size < 576 ||
      napi_typeof(env, argv[4], &cbt) != napi_ok || cbt != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "startReceiver: bad arguments");
    return NULL;
  }
  int slots = (int)(slab_len / (size_t)slot_size);
  if (slots > MAX_SLOTS) slots = MAX_SLOTS;
  if (slots < 1 || meta_len < (size_t)slots * 3) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "startReceiver: slab or meta too small");
    return NULL;
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return throw_errno(env, "fcntl", errno, NULL);

  Receiver* r = calloc(1, sizeof(Receiver));
  if (!r) return throw_errno(env, "calloc", ENOMEM, NULL);
  r->env = env;
  r->fd = fd;
  r->slab = slab;
  r->meta = meta;
  r->slot_size = (size_t)slot_size;
  r->slots = slots;
  napi_value name;
  CHECK(napi_create_reference(env, argv[4], 1, &r->callback));
  CHECK(napi_create_reference(env, argv[1], 1, &r->slab_ref));
  CHECK(napi_create_reference(env, argv[2], 1, &r->meta_ref));
  CHECK(napi_create_string_utf8(env, "kiln_net.receiver", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &r->actx));
  struct uv_loop_s* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (uv_poll_init(loop, &r->poll, fd) != 0) {
    free(r);
    return throw_errno(env, "uv_poll_init", EINVAL, NULL);
  }
  r->poll.data = r;
  uv_poll_start(&r->poll, UV_READABLE, on_readable);
  napi_value ext;
  CHECK(napi_create_external(env, r, NULL, NULL, &ext));
  return ext;
}

/** stopReceiver(external): stops polling and releases the JS references (the fd stays open). */
static napi_value StopReceiver(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void* p = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "stopReceiver: expected a receiver");
    return NULL;
  }
  Receiver* r = (Receiver*)p;
  if (r->stopped) return NULL;
  r->stopped = 1;
  uv_poll_stop(&r->poll);
  napi_delete_reference(env, r->callback);
  napi_delete_reference(env, r->slab_ref);
  napi_delete_reference(env, r->meta_ref);
  napi_async_destroy(env, r->actx);
  uv_close((uv_handle_t*)&r->poll, receiver_free);
  return NULL;
}

/**
 * sendBatch(fd, buffers: Buffer[], addrs: Uint32Array, ports: Uint16Array, count) -> sent.
 * Returns how many were delivered to the kernel. Datagrams the socket cannot take right now
 * (EAGAIN) are not retried, and a failing datagram (e.g. ENETUNREACH) is skipped so one bad
 * destination does not hold back the rest; `-errno` of the first failure is returned when none
 * was delivered.
 */
static napi_value SendBatch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, count;
  napi_typedarray_type atype, pt;
  size_t alen, plen, off;
  void *adata, *pdata;
  napi_value ab;
  bool isArray = false;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_is_array(env, argv[1], &isArray) != napi_ok || !isArray ||
      napi_get_typedarray_info(env, argv[2], &atype, &alen, &adata, &ab, &off) != napi_ok || atype != napi_uint32_array ||
      napi_get_typedarray_info(env, argv[3], &pt, &plen, &pdata, &ab, &off) != napi_ok || pt != napi_uint16_array ||
      napi_get_value_int32(env, argv[4], &count) != napi_ok || count < 0 || (size_t)count > alen || (size_t)count > plen) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "sendBatch(fd, buffers, addrs, ports, count)");
    return NULL;
  }
  if (count > MAX_SLOTS) count = MAX_SLOTS;
  struct mmsghdr msgs[MAX_SLOTS];
  struct iovec iov[MAX_SLOTS];
  struct sockaddr_in to[MAX_SLOTS];
  const uint32_t* addrs = adata;
  const uint16_t* ports = pdata;
  for (int i = 0; i < count; i++) {
    napi_value b;
    void* data;
    size_t len;
    CHECK(napi_get_element(env, argv[1], (uint32_t)i, &b));
    if (napi_get_buffer_info(env, b, &data, &len) != napi_ok) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sendBatch: buffers must be Buffers");
      return NULL;
    }
    iov[i].iov_base = data;
    iov[i].iov_len = len;
    memset(&to[i], 0, sizeof to[i]);
    to[i].sin_family = AF_INET;
    to[i].sin_addr.s_addr = htonl(addrs[i]);
    to[i].sin_port = htons(ports[i]);
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &to[i];
    msgs[i].msg_hdr.msg_namelen = sizeof to[i];
  }
  int at = 0, ok = 0, firstErr = 0;
  while (at < count) {
    int n = sendmmsg(fd, msgs + at, (unsigned)(count - at), MSG_DONTWAIT);
    if (n > 0) {
      at += n;
      ok += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (!firstErr) firstErr = n < 0 ? errno : EIO;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    at++; // skip the datagram that failed (e.g. ENETUNREACH) and go on with the rest
  }
  napi_value result;
  CHECK(napi_create_int32(env, ok == 0 && firstErr ? -firstErr : ok, &result));
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openUdp4", NULL, OpenUdp4, NULL, NULL, NULL, napi_default, NULL},
      {"closeFd", NULL, CloseFd, NULL, NULL, NULL, napi_default, NULL},
      {"startReceiver", NULL, StartReceiver, NULL, NULL, NULL, napi_default, NULL},
      {"stopReceiver", NULL, StopReceiver, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatch", NULL, SendBatch, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
