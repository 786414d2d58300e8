/*
 * tsvs_io.c - batched fd I/O for tsvs ports: AF_PACKET sockets and TAP devices.
 *
 * Design note
 * - Why C and N-API: Node has no API for AF_PACKET, TUNSETIFF or mmap rings,
 *   and per-frame FFI calls cost ~1.6 us each (perf/README). A tiny addon that
 *   owns the fds and wakes through libuv (uv_poll_t on the addon's own fd,
 *   level-triggered epoll) calls JS once per batch: no threads, no spinning,
 *   idle CPU 0. N-API (plain C, node_api.h) keeps it ABI-stable and needs no
 *   dependency beyond node's headers.
 * - Why an RX ring rather than recvmmsg: the kernel fills the ring from
 *   softirq and user space reads it with no syscall per batch at all,
 *   measured 0.91 vs 0.62 Mpps through JS. A TPACKET_V3 ring (ringVersion 3)
 *   packs frames densely but hands a block over only when it is full or after
 *   tp_retire_blk_tov (1 ms here): every frame waits at low load. A TPACKET_V2
 *   ring (ringVersion 2, what system ports use by default) has one fixed frame
 *   per packet and wakes the socket per frame, so a lone frame is handed
 *   over at once. `ring: false` selects recvmmsg (one syscall per batch,
 *   PACKET_AUXDATA cmsgs).
 * - Busy mode (on_poll, on_timer): under load, per-frame wake-ups and small
 *   batches cost more than the work; the fd leaves epoll and a one-shot
 *   timer drains it in large batches until the port is quiet again (NAPI
 *   with interrupt coalescing). Idle and low-rate ports never enter it.
 * - Copy strategy: ring frames are copied once into the caller's PacketBatch
 *   slots (at HEADROOM). Zero-copy from the ring is not used because the
 *   datapath rewrites frames in place, pushes tags into headroom, and may hold
 *   a frame in an output queue past the moment its block must go back to the
 *   kernel (a block held by JS stalls the whole ring). A 64-byte memcpy is
 *   noise next to the wake-up. recvmmsg and TAP read() land directly in the
 *   slots (no copy). TAP has no batched write, so it is one write() per frame
 *   inside one JS->C call.
 * - AF_PACKET transmit (bench/RESULTS.md has the figures): on a second
 *   socket that nothing polls (freeing each sent skb wakes the sending
 *   socket's waiters: on the polled receive socket, an epoll callback per
 *   frame), by default through a TPACKET_V2 TX ring: frames are copied into
 *   ring frames and one sendto() sends the batch, which saves sendmmsg's
 *   per-message msghdr/iovec copies. Each ring frame starts with a
 *   virtio_net_hdr whose hdr_len makes the kernel copy the whole frame into
 *   the skb's linear part; without it the skb points into the ring page and
 *   the veth peer's receive path pays more than the copy saved. txRing=0
 *   selects sendmmsg (zero-copy iovecs into the caller's buffer).
 * - Kernel-stripped VLAN tags (TP_STATUS_VLAN_VALID / PACKET_AUXDATA) are put
 *   back into the frame, moving the MAC addresses 4 bytes into the headroom.
 * - TP_STATUS_CSUMNOTREADY (CHECKSUM_PARTIAL, e.g. veth TX offload): the
 *   TCP/UDP checksum holds only the pseudo-header sum; we compute the full L4
 *   checksum here, else TCP/UDP forwarded to another port is dropped by the
 *   receiver while ping (ICMP, no offload) works.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef TP_STATUS_VLAN_TPID_VALID
#define TP_STATUS_VLAN_TPID_VALID (1 << 6)
#endif

#define TX_CHUNK 256       /* iovecs per sendmmsg call */
#define RX_MAX_BATCH 1024  /* largest PacketBatch capacity accepted */
#define TX_RING_FRAME 2048 /* TPACKET_V2 TX ring frame: header + up to 2016 bytes */
#define TX_RING_PER_BLOCK 32
#define BUSY_MIN 32        /* frames per wake-up that switch a port to busy mode */
#define BUSY_FULL 128      /* busy mode: a pass with this many frames is followed at once... */
#define BUSY_WAIT_MS 1     /* ...a smaller one after this long, so frames gather into batches */
#define TX_RING_DATA (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll)) /* frame data offset */
#define TX_RING_MAX_LEN 1518 /* longer frames (jumbo) go through sendmsg */

/* Counter slots in the caller's Float64Array; keep in sync with STAT_NAMES
 * and with index.ts. */
enum {
  S_RX_PACKETS, S_RX_BYTES, S_RX_DROPPED, S_RX_ERRORS,
  S_TX_PACKETS, S_TX_BYTES, S_TX_DROPPED, S_TX_ERRORS,
  S_RX_WAKEUPS, S_RX_BATCHES, S_RX_TRUNCATED, S_RX_VLAN_RESTORED,
  S_RX_CSUM_COMPLETED, S_KERNEL_DROPS, S_TX_SYSCALLS, S_POLL_ERRORS,
  S_COUNT
};
static const char *STAT_NAMES[S_COUNT] = {
  "rxPackets", "rxBytes", "rxDropped", "rxErrors",
  "txPackets", "txBytes", "txDropped", "txErrors",
  "rxWakeups", "rxBatches", "rxTruncated", "rxVlanRestored",
  "rxCsumCompleted", "kernelDrops", "txSyscalls", "pollErrors",
};

enum { K_PACKET = 1, K_TAP = 2 };

typedef struct port {
  int kind;
  int fd;
  char name[IFNAMSIZ];
  int ifindex;
  napi_env env;

  /* uv state: the struct is freed once the uv handle is closed (or was never
   * initialised) and the JS external has been finalised. */
  uv_poll_t poll;
  int poll_init, polling, handle_closed, finalized;
  /* busy mode (see on_poll): the fd is out of epoll and a one-shot timer
   * drains it until a pass finds fewer than BUSY_MIN frames */
  uv_timer_t timer;
  int timer_init, timer_closed, busy, waited;

  napi_ref self_ref;           /* strong while polling: keep the external alive */
  napi_ref cb_ref, buf_ref, off_ref, len_ref, stats_ref;
  napi_async_context actx;

  double *stats;               /* S_COUNT doubles, owned by stats_ref */
  uint8_t *buf;                /* PacketBatch.buf */
  size_t buf_len;
  int32_t *off, *len;          /* PacketBatch.off / .len */
  uint32_t cap, slot_bytes, headroom, frame_max, budget;

  /* RX ring (AF_PACKET, ring mode): TPACKET_V3 (ring_v 3) or V2 (ring_v 2) */
  uint8_t *map;
  size_t map_len;
  int ring_v;
  uint32_t blk_size, blk_nr, cur_blk, pkt_left, blk_open;
  struct tpacket3_hdr *pkt;
  /* V2: fixed frames, fpb per block */
  uint32_t v2_fsz, v2_fpb, v2_fnr, v2_cur;

  /* recvmmsg (AF_PACKET, ring: false) */
  struct mmsghdr *rx_msgs;
  struct iovec *rx_iov;
  uint8_t *rx_ctl;             /* one control buffer per message */

  /* transmit: a socket of its own (tx_fd, bound with protocol 0: it
   * receives nothing and nothing waits on it), optionally with a TPACKET_V2
   * TX ring; tx_fd < 0: transmit on fd */
  int tx_fd;
  uint8_t *tx_map;
  size_t tx_map_len;
  uint32_t tx_fsz, tx_fnr, tx_cur;

  /* sendmmsg scratch */
  struct mmsghdr tx_msgs[TX_CHUNK];
  struct iovec tx_iov[TX_CHUNK];
} port_t;

#define CTL_BYTES CMSG_SPACE(sizeof(struct tpacket_auxdata))

/* ------------------------------------------------------------------ */
/* errors                                                              */
/* ------------------------------------------------------------------ */

/* Throw an Error whose code is the errno name (ENODEV, EPERM, ...). */
static napi_value throw_errno(napi_env env, int err, const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n < sizeof msg)
    snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(err));
  napi_throw_error(env, uv_err_name(-err), msg);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg)
{
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

#define NAPI_OK(call)                                                       \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      bool pending_ = false;                                                \
      napi_is_exception_pending(env, &pending_);                            \
      if (!pending_) napi_throw_error(env, "ERR_NAPI", "N-API call failed: " #call); \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

/* ------------------------------------------------------------------ */
/* small argument helpers                                              */
/* ------------------------------------------------------------------ */

static int get_string(napi_env env, napi_value v, char *out, size_t cap)
{
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, out, cap, &n) != napi_ok) return -1;
  return n + 1 >= cap ? -2 : 0; /* -2: possibly truncated */
}

static int opt_int(napi_env env, napi_value obj, const char *key, int dflt)
{
  napi_valuetype t;
  if (napi_typeof(env, obj, &t) != napi_ok || t != napi_object) return dflt;
  napi_value v;
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return dflt;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return dflt;
  if (napi_typeof(env, v, &t) != napi_ok) return dflt;
  if (t == napi_boolean) {
    bool b;
    napi_get_value_bool(env, v, &b);
    return b ? 1 : 0;
  }
  if (t != napi_number) return dflt;
  int32_t i;
  napi_get_value_int32(env, v, &i);
  return i;
}

static port_t *get_port(napi_env env, napi_value v)
{
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    throw_type(env, "expected a tsvs_io handle");
    return NULL;
  }
  return p;
}

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *n)
{
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return -1;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, n, data, &ab, &off) != napi_ok) return -1;
  return t == want ? 0 : -1;
}

/* Buffer or Uint8Array */
static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *n)
{
  return get_typed(env, v, napi_uint8_array, (void **)data, n);
}

/* ------------------------------------------------------------------ */
/* interface control (SIOC* ioctls)                                    */
/* ------------------------------------------------------------------ */

static int ctl_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
  int r = ioctl(s, req, ifr);
  int e = errno;
  close(s);
  return r < 0 ? -e : 0;
}

static int set_up(const char *name, int up)
{
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  int r = ctl_ioctl(name, SIOCGIFFLAGS, &ifr);
  if (r) return r;
  if (up) ifr.ifr_flags |= IFF_UP;
  else ifr.ifr_flags &= ~IFF_UP;
  return ctl_ioctl(name, SIOCSIFFLAGS, &ifr);
}

/* linkInfo(name) -> { ifindex, flags, up, carrier, mtu, mac: Buffer(6) } */
static napi_value js_link_info(napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ];
  if (argc < 1 || get_string(env, argv[0], name, sizeof name) != 0)
    return throw_type(env, "linkInfo: interface name (max 15 bytes) expected");
  struct ifreq fl, mtu, hw;
  memset(&fl, 0, sizeof fl);
  memset(&mtu, 0, sizeof mtu);
  memset(&hw, 0, sizeof hw);
  int r = ctl_ioctl(name, SIOCGIFFLAGS, &fl);
  if (!r) r = ctl_ioctl(name, SIOCGIFMTU, &mtu);
  if (!r) r = ctl_ioctl(name, SIOCGIFHWADDR, &hw);
  if (r) return throw_errno(env, -r, "interface %s", name);
  int ifindex = (int)if_nametoindex(name);

  napi_value o, v;
  NAPI_OK(napi_create_object(env, &o));
  NAPI_OK(napi_create_int32(env, ifindex, &v));
  NAPI_OK(napi_set_named_property(env, o, "ifindex", v));
  NAPI_OK(napi_create_int32(env, fl.ifr_flags & 0xffff, &v));
  NAPI_OK(napi_set_named_property(env, o, "flags", v));
  NAPI_OK(napi_get_boolean(env, (fl.ifr_flags & IFF_UP) != 0, &v));
  NAPI_OK(napi_set_named_property(env, o, "up", v));
  NAPI_OK(napi_get_boolean(env, (fl.ifr_flags & IFF_RUNNING) != 0, &v));
  NAPI_OK(napi_set_named_property(env, o, "carrier", v));
  NAPI_OK(napi_create_int32(env, mtu.ifr_mtu, &v));
  NAPI_OK(napi_set_named_property(env, o, "mtu", v));
  void *data;
  NAPI_OK(napi_create_buffer_copy(env, 6, hw.ifr_hwaddr.sa_data, &data, &v));
  NAPI_OK(napi_set_named_property(env, o, "mac", v));
  return o;
}

/* setLinkUp(name, up) */
static napi_value js_set_link_up(napi_env env, napi_callback_info info)
{
  size_t argc = 2;
  napi_value argv[2];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ];
  bool up = true;
  if (argc < 2 || get_string(env, argv[0], name, sizeof name) != 0 ||
      napi_get_value_bool(env, argv[1], &up) != napi_ok)
    return throw_type(env, "setLinkUp(name, up) expected");
  int r = set_up(name, up);
  if (r) return throw_errno(env, -r, "interface %s: set %s", name, up ? "up" : "down");
  return NULL;
}

/* setOffloads(name, on) -> { gro, gso, tso, failed }: switch GRO/GSO/TSO off (or on)
 * with the legacy ETHTOOL_S* commands. An attached veth with offloads on may hand
 * AF_PACKET super-frames larger than the MTU (GRO) and accept them for transmit
 * (TSO/GSO); a switch forwarding them to a port with a smaller MTU breaks, so
 * ports turn them off. Per feature: true = set, false = not supported/failed. */
static napi_value js_set_offloads(napi_env env, napi_callback_info info)
{
  size_t argc = 2;
  napi_value argv[2];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ];
  bool on = false;
  if (argc < 2 || get_string(env, argv[0], name, sizeof name) != 0 ||
      napi_get_value_bool(env, argv[1], &on) != napi_ok)
    return throw_type(env, "setOffloads(name, on) expected");
  static const struct { const char *key; uint32_t cmd; } feats[] = {
    { "gro", ETHTOOL_SGRO }, { "gso", ETHTOOL_SGSO }, { "tso", ETHTOOL_STSO },
  };
  napi_value o, v;
  NAPI_OK(napi_create_object(env, &o));
  for (size_t i = 0; i < sizeof feats / sizeof feats[0]; i++) {
    struct ethtool_value ev = { .cmd = feats[i].cmd, .data = on ? 1 : 0 };
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_data = (void *)&ev;
    int r = ctl_ioctl(name, SIOCETHTOOL, &ifr);
    if (r == -ENODEV) return throw_errno(env, ENODEV, "interface %s", name);
    NAPI_OK(napi_get_boolean(env, r == 0, &v));
    NAPI_OK(napi_set_named_property(env, o, feats[i].key, v));
  }
  return o;
}

/* ------------------------------------------------------------------ */
/* frame fix-ups                                                       */
/* ------------------------------------------------------------------ */

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint64_t sum16(uint64_t s, const uint8_t *p, size_t n)
{
  for (; n > 1; n -= 2, p += 2) s += (uint32_t)(p[0] << 8 | p[1]);
  if (n) s += (uint32_t)p[0] << 8;
  return s;
}

static uint16_t fold(uint64_t s)
{
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

/* Compute the full TCP/UDP checksum of an Ethernet frame (IPv4/IPv6, up to two
 * VLAN tags). Returns 0 when done, -1 when the frame is not one we can fix. */
static int complete_l4_csum(uint8_t *f, uint32_t len)
{
  if (len < 14) return -1;
  uint32_t o = 14;
  uint16_t et = rd16(f + 12);
  for (int t = 0; t < 2 && (et == 0x8100 || et == 0x88a8); t++) {
    if (o + 4 > len) return -1;
    et = rd16(f + o + 2);
    o += 4;
  }
  uint64_t s;
  uint32_t l4, l4len;
  uint8_t proto;
  if (et == 0x0800) {
    if (o + 20 > len) return -1;
    const uint8_t *ip = f + o;
    uint32_t ihl = (ip[0] & 15u) * 4, tot = rd16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || o + tot > len) return -1;
    if (rd16(ip + 6) & 0x3fff) return -1; /* fragment */
    proto = ip[9];
    l4 = o + ihl;
    l4len = tot - ihl;
    s = sum16(0, ip + 12, 8) + proto + l4len;
  } else if (et == 0x86dd) {
    if (o + 40 > len) return -1;
    const uint8_t *ip = f + o;
    uint32_t end = o + 40 + rd16(ip + 4);
    if (end > len) return -1;
    proto = ip[6];
    l4 = o + 40;
    /* hop-by-hop, routing, destination options */
    while (proto == 0 || proto == 43 || proto == 60) {
      if (l4 + 8 > end) return -1;
      proto = f[l4];
      l4 += (f[l4 + 1] + 1u) * 8;
    }
    if (l4 > end) return -1;
    l4len = end - l4;
    s = sum16(0, ip + 8, 32) + proto + (l4len >> 16) + (l4len & 0xffff);
  } else {
    return -1;
  }
  uint32_t csoff;
  if (proto == 6 && l4len >= 20) csoff = 16;
  else if (proto == 17 && l4len >= 8) csoff = 6;
  else return -1;
  f[l4 + csoff] = 0;
  f[l4 + csoff + 1] = 0;
  uint16_t c = fold(sum16(s, f + l4, l4len));
  if (proto == 17 && c == 0) c = 0xffff;
  f[l4 + csoff] = (uint8_t)(c >> 8);
  f[l4 + csoff + 1] = (uint8_t)c;
  return 0;
}

/* Frame i of the batch has been written at slot + headroom (length n). Apply
 * the kernel metadata and record it; returns 1 if the frame is kept. */
static int finish_frame(port_t *p, uint32_t i, uint32_t n, uint32_t status, uint16_t tci,
                        uint16_t tpid)
{
  uint32_t o = i * p->slot_bytes + p->headroom;
  uint8_t *f = p->buf + o;
  if (status & TP_STATUS_VLAN_VALID) {
    if (n + 4 > p->frame_max || p->headroom < 4 || n < 12) {
      p->stats[S_RX_TRUNCATED]++;
      p->stats[S_RX_DROPPED]++;
      return 0;
    }
    if (!(status & TP_STATUS_VLAN_TPID_VALID) || !tpid) tpid = ETH_P_8021Q;
    memmove(f - 4, f, 12);
    f -= 4;
    o -= 4;
    f[12] = (uint8_t)(tpid >> 8);
    f[13] = (uint8_t)tpid;
    f[14] = (uint8_t)(tci >> 8);
    f[15] = (uint8_t)tci;
    n += 4;
    p->stats[S_RX_VLAN_RESTORED]++;
  }
  if ((status & TP_STATUS_CSUMNOTREADY) && complete_l4_csum(f, n) == 0)
    p->stats[S_RX_CSUM_COMPLETED]++;
  p->off[i] = (int32_t)o;
  p->len[i] = (int32_t)n;
  p->stats[S_RX_PACKETS]++;
  p->stats[S_RX_BYTES] += n;
  return 1;
}

/* ------------------------------------------------------------------ */
/* receive paths: each fills up to `room` slots, returns frames kept   */
/* ------------------------------------------------------------------ */

static inline struct tpacket_block_desc *ring_block(port_t *p, uint32_t i)
{
  return (struct tpacket_block_desc *)(p->map + (size_t)i * p->blk_size);
}

static void ring_release(port_t *p)
{
  struct tpacket_block_desc *b = ring_block(p, p->cur_blk);
  __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  p->cur_blk = (p->cur_blk + 1) % p->blk_nr;
  p->blk_open = 0;
  p->pkt_left = 0;
}

/* Copy one ring frame (snap of len bytes captured) into batch slot n, or drop
 * and count it when it was cut short or does not fit; returns frames kept. */
static uint32_t take_ring_frame(port_t *p, uint32_t n, const uint8_t *mac, uint32_t snap, uint32_t len,
                                uint32_t status, uint16_t tci, uint16_t tpid)
{
  if (snap < len || snap > p->frame_max) {
    p->stats[S_RX_TRUNCATED]++;
    p->stats[S_RX_DROPPED]++;
    return 0;
  }
  memcpy(p->buf + (size_t)n * p->slot_bytes + p->headroom, mac, snap);
  return (uint32_t)finish_frame(p, n, snap, status, tci, tpid);
}

static uint32_t rx_ring(port_t *p, uint32_t room)
{
  uint32_t n = 0;
  while (n < room) {
    if (!p->pkt_left) {
      if (p->blk_open) ring_release(p);
      struct tpacket_block_desc *b = ring_block(p, p->cur_blk);
      if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
      p->blk_open = 1;
      p->pkt_left = b->hdr.bh1.num_pkts;
      p->pkt = (struct tpacket3_hdr *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
      if (!p->pkt_left) continue;
    }
    struct tpacket3_hdr *h = p->pkt;
    n += take_ring_frame(p, n, (uint8_t *)h + h->tp_mac, h->tp_snaplen, h->tp_len, h->tp_status,
                         (uint16_t)h->hv1.tp_vlan_tci, h->hv1.tp_vlan_tpid);
    p->pkt = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
    p->pkt_left--;
  }
  if (p->blk_open && !p->pkt_left) ring_release(p); /* hand the block back at once */
  return n;
}

/* TPACKET_V2: one fixed-size frame per packet; the kernel wakes the socket
 * for every frame, so a lone frame is handed over at once (no block timer),
 * and a busy port still drains many frames per wake-up with no syscall. */
static inline struct tpacket2_hdr *ring2_frame(port_t *p, uint32_t i)
{
  return (struct tpacket2_hdr *)(p->map + (size_t)(i / p->v2_fpb) * p->blk_size +
                                 (size_t)(i % p->v2_fpb) * p->v2_fsz);
}

static uint32_t rx_ring2(port_t *p, uint32_t room)
{
  uint32_t n = 0;
  while (n < room) {
    struct tpacket2_hdr *h = ring2_frame(p, p->v2_cur);
    uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (!(status & TP_STATUS_USER)) break;
    n += take_ring_frame(p, n, (uint8_t *)h + h->tp_mac, h->tp_snaplen, h->tp_len, status,
                         h->tp_vlan_tci, h->tp_vlan_tpid);
    __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    p->v2_cur = p->v2_cur + 1 == p->v2_fnr ? 0 : p->v2_cur + 1;
  }
  return n;
}

static uint32_t rx_mmsg(port_t *p, uint32_t room)
{
  for (uint32_t j = 0; j < room; j++) {
    p->rx_iov[j].iov_base = p->buf + (size_t)j * p->slot_bytes + p->headroom;
    p->rx_iov[j].iov_len = p->frame_max;
    p->rx_msgs[j].msg_hdr.msg_controllen = CTL_BYTES;
    p->rx_msgs[j].msg_hdr.msg_flags = 0;
  }
  int r = recvmmsg(p->fd, p->rx_msgs, room, MSG_DONTWAIT | MSG_TRUNC, NULL);
  if (r <= 0) {
    if (r < 0 && errno != EAGAIN && errno != EINTR) p->stats[S_RX_ERRORS]++;
    return 0;
  }
  uint32_t n = 0;
  for (int j = 0; j < r; j++) {
    struct msghdr *m = &p->rx_msgs[j].msg_hdr;
    uint32_t got = p->rx_msgs[j].msg_len;
    if ((m->msg_flags & MSG_TRUNC) || got > p->frame_max) {
      p->stats[S_RX_TRUNCATED]++;
      p->stats[S_RX_DROPPED]++;
      continue;
    }
    uint32_t status = 0;
    uint16_t tci = 0, tpid = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
      if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
          c->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
        struct tpacket_auxdata aux;
        memcpy(&aux, CMSG_DATA(c), sizeof aux);
        status = aux.tp_status;
        tci = aux.tp_vlan_tci;
        tpid = aux.tp_vlan_tpid;
      }
    }
    if (n != (uint32_t)j) /* an earlier frame was dropped: close the gap */
      memmove(p->buf + (size_t)n * p->slot_bytes + p->headroom,
              p->buf + (size_t)j * p->slot_bytes + p->headroom, got);
    n += (uint32_t)finish_frame(p, n, got, status, tci, tpid);
  }
  return n;
}

static uint32_t rx_tap(port_t *p, uint32_t room)
{
  uint32_t n = 0;
  while (n < room) {
    ssize_t r = read(p->fd, p->buf + (size_t)n * p->slot_bytes + p->headroom, p->frame_max);
    if (r < 0) {
      if (errno != EAGAIN && errno != EINTR) p->stats[S_RX_ERRORS]++;
      break;
    }
    if (r == 0) break;
    if ((uint32_t)r > p->frame_max) {
      p->stats[S_RX_TRUNCATED]++;
      p->stats[S_RX_DROPPED]++;
      continue;
    }
    n += (uint32_t)finish_frame(p, n, (uint32_t)r, 0, 0, 0);
  }
  return n;
}

static uint32_t rx_fill(port_t *p, uint32_t room)
{
  if (p->kind == K_TAP) return rx_tap(p, room);
  if (p->map) return p->ring_v == 2 ? rx_ring2(p, room) : rx_ring(p, room);
  return rx_mmsg(p, room);
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */
/* ------------------------------------------------------------------ */

static void maybe_free(port_t *p)
{
  if (p->finalized && (!p->poll_init || p->handle_closed) && (!p->timer_init || p->timer_closed)) free(p);
}

static void on_handle_closed(uv_handle_t *h)
{
  port_t *p = h->data;
  p->handle_closed = 1;
  maybe_free(p);
}

static void on_timer_closed(uv_handle_t *h)
{
  port_t *p = h->data;
  p->timer_closed = 1;
  maybe_free(p);
}

static void del_ref(napi_env env, napi_ref *r)
{
  if (*r) {
    napi_delete_reference(env, *r);
    *r = NULL;
  }
}

static void port_stop(port_t *p)
{
  napi_env env = p->env;
  if (p->polling) {
    uv_poll_stop(&p->poll);
    p->polling = 0;
  }
  if (p->busy) {
    uv_timer_stop(&p->timer);
    p->busy = 0;
  }
  del_ref(env, &p->cb_ref);
  del_ref(env, &p->buf_ref);
  del_ref(env, &p->off_ref);
  del_ref(env, &p->len_ref);
  del_ref(env, &p->self_ref);
  if (p->actx) {
    napi_async_destroy(env, p->actx);
    p->actx = NULL;
  }
  p->buf = NULL;
  p->off = p->len = NULL;
  p->cap = 0;
  free(p->rx_msgs);
  free(p->rx_iov);
  free(p->rx_ctl);
  p->rx_msgs = NULL;
  p->rx_iov = NULL;
  p->rx_ctl = NULL;
}

static void port_close(port_t *p)
{
  port_stop(p);
  if (p->poll_init && !uv_is_closing((uv_handle_t *)&p->poll))
    uv_close((uv_handle_t *)&p->poll, on_handle_closed);
  if (p->timer_init && !uv_is_closing((uv_handle_t *)&p->timer))
    uv_close((uv_handle_t *)&p->timer, on_timer_closed);
  if (p->map) {
    munmap(p->map, p->map_len);
    p->map = NULL;
  }
  if (p->tx_map) {
    munmap(p->tx_map, p->tx_map_len);
    p->tx_map = NULL;
  }
  if (p->tx_fd >= 0) {
    close(p->tx_fd);
    p->tx_fd = -1;
  }
  if (p->fd >= 0) {
    close(p->fd);
    p->fd = -1;
  }
  del_ref(p->env, &p->stats_ref);
  p->stats = NULL;
}

static void finalize_port(napi_env env, void *data, void *hint)
{
  (void)env;
  (void)hint;
  port_t *p = data;
  if (p->fd >= 0 || p->polling) port_close(p);
  p->finalized = 1;
  maybe_free(p);
}

static void deliver(port_t *p, uint32_t n)
{
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, res;
  if (napi_get_reference_value(env, p->cb_ref, &cb) == napi_ok && cb &&
      napi_get_global(env, &recv) == napi_ok && napi_create_int32(env, (int32_t)n, &arg) == napi_ok) {
    napi_status st = napi_make_callback(env, p->actx, recv, cb, 1, &arg, &res);
    if (st == napi_pending_exception) {
      napi_value e;
      if (napi_get_and_clear_last_exception(env, &e) == napi_ok) napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* Whether a V2 ring holds at least k frames for user space (frames are
 * filled in order, so it is enough to look at the k-th). Other receive
 * paths cannot tell cheaply and say yes. */
static int rx_ready(port_t *p, uint32_t k)
{
  if (!p->map || p->ring_v != 2) return 1;
  if (k > p->v2_fnr) k = p->v2_fnr;
  uint32_t i = p->v2_cur + k - 1;
  if (i >= p->v2_fnr) i -= p->v2_fnr;
  return (__atomic_load_n(&ring2_frame(p, i)->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

/* Hand JS up to `budget` frames in batches; returns frames delivered. With
 * min_batch > 1 a batch is taken only when that many frames are ready (busy
 * mode: a ring the kernel is still filling would otherwise be drained a few
 * frames at a time, each batch paying a JS call and a transmit syscall). */
static uint32_t drain(port_t *p, uint32_t min_batch)
{
  uint32_t done = 0;
  while (p->polling && p->fd >= 0 && done < p->budget) {
    uint32_t room = p->budget - done;
    if (room > p->cap) room = p->cap;
    if (min_batch > 1 && !rx_ready(p, min_batch < room ? min_batch : room)) break;
    uint32_t n = rx_fill(p, room);
    if (!n) break;
    p->stats[S_RX_BATCHES]++;
    deliver(p, n); /* may stop() or close() the port */
    done += n;
  }
  return done;
}

static void on_timer(uv_timer_t *h);

static void on_poll(uv_poll_t *h, int status, int events)
{
  (void)events;
  port_t *p = h->data;
  if (status < 0) {
    /* libuv stops the watcher on POLLERR. For a packet socket that is a
     * pending sk_err (e.g. ENETDOWN when the link went down): clear it and
     * keep polling. A TAP reports POLLERR only when detached: stop and tell JS. */
    p->stats[S_POLL_ERRORS]++;
    if (p->kind == K_PACKET && p->fd >= 0) {
      int err = 0;
      socklen_t l = sizeof err;
      getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &l);
      if (uv_poll_start(&p->poll, UV_READABLE, on_poll) == 0) return;
    }
    p->polling = 0;
    if (p->cb_ref) deliver(p, (uint32_t)status); /* negative: error code */
    return;
  }
  p->stats[S_RX_WAKEUPS]++;
  uint32_t done = drain(p, 1);
  if (done >= BUSY_MIN && p->polling && !p->busy) {
    /* Busy: every frame's arrival would run the socket's wake-up (an epoll
     * callback per frame, ~0.2 us here) and small batches would each pay a
     * JS call and a transmit syscall. Take the fd out of epoll and drain it
     * from a timer instead, as NAPI with interrupt coalescing does: at once
     * after a pass of BUSY_FULL frames or more, else after BUSY_WAIT_MS so
     * frames gather; back to wake-ups when a pass after such a wait finds
     * fewer than BUSY_MIN (below ~32 kpps nothing waits for the timer). */
    uv_poll_stop(&p->poll);
    p->busy = 1;
    p->waited = done < BUSY_FULL;
    uv_timer_start(&p->timer, on_timer, p->waited ? BUSY_WAIT_MS : 0, 0);
  }
}

static void on_timer(uv_timer_t *h)
{
  port_t *p = h->data;
  if (!p->busy) return;
  if (!p->polling || p->fd < 0) {
    p->busy = 0;
    return;
  }
  uint32_t done = drain(p, BUSY_FULL);
  if (!p->busy || !p->polling || p->fd < 0) return; /* stopped, restarted or closed by JS */
  if (done >= BUSY_FULL) { /* more may be waiting: next pass at once */
    p->waited = 0;
    uv_timer_start(h, on_timer, 0, 0);
    return;
  }
  if (done >= BUSY_MIN || !p->waited) { /* let frames gather */
    p->waited = 1;
    uv_timer_start(h, on_timer, BUSY_WAIT_MS, 0);
    return;
  }
  /* quiet again: back to wake-ups (level-triggered, so frames that came in
   * since this pass wake it at once) */
  p->busy = 0;
  if (uv_poll_start(&p->poll, UV_READABLE, on_poll) != 0) {
    p->polling = 0;
    p->stats[S_POLL_ERRORS]++;
  }
}

/* ------------------------------------------------------------------ */
/* open                                                                */
/* ------------------------------------------------------------------ */

static port_t *port_new(napi_env env, int kind, const char *name)
{
  port_t *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->kind = kind;
  p->fd = -1;
  p->tx_fd = -1;
  p->env = env;
  snprintf(p->name, sizeof p->name, "%s", name);
  for (int j = 0; j < TX_CHUNK; j++) {
    p->tx_msgs[j].msg_hdr.msg_iov = &p->tx_iov[j];
    p->tx_msgs[j].msg_hdr.msg_iovlen = 1;
  }
  return p;
}

/* Wrap p in an external, attach the stats array and the uv handle. */
static napi_value port_finish_open(napi_env env, port_t *p, napi_value stats)
{
  double *sd;
  size_t sn;
  if (get_typed(env, stats, napi_float64_array, (void **)&sd, &sn) != 0 || sn < S_COUNT) {
    port_close(p);
    free(p);
    return throw_type(env, "stats must be a Float64Array of statCount() entries");
  }
  uv_loop_t *loop;
  int r = napi_get_uv_event_loop(env, &loop) != napi_ok ? UV_EINVAL : uv_poll_init(loop, &p->poll, p->fd);
  if (r) {
    char name[IFNAMSIZ];
    memcpy(name, p->name, sizeof name);
    port_close(p);
    free(p);
    return throw_errno(env, -r, "%s: uv_poll_init", name);
  }
  p->poll_init = 1;
  p->poll.data = p;
  uv_timer_init(loop, &p->timer);
  p->timer_init = 1;
  p->timer.data = p;
  napi_value ext;
  if (napi_create_external(env, p, finalize_port, NULL, &ext) != napi_ok) {
    port_close(p);
    p->finalized = 1;
    maybe_free(p);
    return NULL;
  }
  napi_create_reference(env, stats, 1, &p->stats_ref);
  p->stats = sd;
  return ext;
}

/* The transmit socket. Why a second socket: every transmitted skb is
 * charged to the sending socket, and freeing it (sock_wfree) calls
 * sk_write_space, which takes the wait-queue lock and runs epoll's callback
 * whenever anything waits on the socket, as libuv does on the receive socket
 * (perf: ~6 % of the forwarding CPU). Nothing ever waits on this one; bound
 * with protocol 0 it receives nothing. With tx_ring > 0 it gets a TPACKET_V2
 * TX ring (frames copied in, one sendto() per batch, no per-frame msghdr
 * and iovec copies). Returns NULL or what failed (errno set). */
static const char *open_tx(port_t *p, int bypass, int sndbuf, int tx_ring)
{
  int one = 1;
  p->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->tx_fd < 0) return "socket(AF_PACKET) for transmit";
  if (bypass && setsockopt(p->tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0)
    return "PACKET_QDISC_BYPASS (transmit)";
  if (sndbuf > 0 && setsockopt(p->tx_fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
    setsockopt(p->tx_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (tx_ring) {
    int v = TPACKET_V2;
    if (setsockopt(p->tx_fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) return "PACKET_VERSION (transmit)";
    /* a frame the kernel rejects (longer than the MTU) is skipped, not a
     * stop of the whole ring */
    if (setsockopt(p->tx_fd, SOL_PACKET, PACKET_LOSS, &one, sizeof one) < 0) return "PACKET_LOSS";
    /* A virtio_net_hdr before each frame, for its hdr_len: the kernel copies
     * that many bytes into the skb's linear part. Without it only the 14-byte
     * Ethernet header is linear and the rest stays a page fragment of the
     * ring, which the receiving side (veth peer: flow dissector, ip_rcv,
     * AF_PACKET) must pull or copy piecewise: measured slower than sendmmsg. */
    if (setsockopt(p->tx_fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) return "PACKET_VNET_HDR";
    struct tpacket_req req;
    memset(&req, 0, sizeof req);
    req.tp_frame_size = TX_RING_FRAME;
    req.tp_block_size = TX_RING_FRAME * TX_RING_PER_BLOCK;
    req.tp_frame_nr = (unsigned)tx_ring;
    req.tp_block_nr = (unsigned)tx_ring / TX_RING_PER_BLOCK;
    if (setsockopt(p->tx_fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) return "PACKET_TX_RING";
    p->tx_fsz = req.tp_frame_size;
    p->tx_fnr = req.tp_frame_nr;
    p->tx_map_len = (size_t)req.tp_block_size * req.tp_block_nr;
    p->tx_map = mmap(NULL, p->tx_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->tx_fd, 0);
    if (p->tx_map == MAP_FAILED) {
      p->tx_map = NULL;
      return "mmap(TX ring)";
    }
    p->tx_cur = 0;
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = 0;
  sll.sll_ifindex = p->ifindex;
  if (bind(p->tx_fd, (struct sockaddr *)&sll, sizeof sll) < 0) return "bind (transmit)";
  return NULL;
}

/* openPacket(ifname, opts, stats) -> handle
 * opts: { ring=1, ringVersion=3 (3: TPACKET_V3 blocks; 2: TPACKET_V2 frames of
 *         ringFrameBytes=2048), blockBytes=1<<18, blocks=16, retireMs=1 (V3), promisc=1,
 *         qdiscBypass=1, ignoreOutgoing=1, sndbufBytes=4<<20, rcvbufBytes=0,
 *         txSocket=1, txRing=0 (frames; 0: sendmmsg) } */
static napi_value js_open_packet(napi_env env, napi_callback_info info)
{
  size_t argc = 3;
  napi_value argv[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ];
  if (argc < 3) return throw_type(env, "openPacket(ifname, opts, stats)");
  int gs = get_string(env, argv[0], name, sizeof name);
  if (gs == -1) return throw_type(env, "openPacket: ifname must be a string");
  if (gs == -2) return throw_errno(env, ENODEV, "interface name too long (max %d bytes)", IFNAMSIZ - 1);
  napi_value o = argv[1];
  int ring = opt_int(env, o, "ring", 1);
  int ring_v = opt_int(env, o, "ringVersion", 3);
  int v2_fsz = opt_int(env, o, "ringFrameBytes", 2048);
  int blk_size = opt_int(env, o, "blockBytes", 1 << 18);
  int blk_nr = opt_int(env, o, "blocks", 16);
  int tov = opt_int(env, o, "retireMs", 1);
  int promisc = opt_int(env, o, "promisc", 1);
  int bypass = opt_int(env, o, "qdiscBypass", 1);
  int ignore_out = opt_int(env, o, "ignoreOutgoing", 1);
  int sndbuf = opt_int(env, o, "sndbufBytes", 4 << 20);
  int rcvbuf = opt_int(env, o, "rcvbufBytes", 0);
  int tx_sock = opt_int(env, o, "txSocket", 1);
  int tx_ring = opt_int(env, o, "txRing", 0);
  if (tx_ring && (tx_ring < TX_RING_PER_BLOCK || tx_ring > 65536 || tx_ring % TX_RING_PER_BLOCK))
    return throw_errno(env, EINVAL, "%s: txRing must be a multiple of %d frames, at most 65536", name, TX_RING_PER_BLOCK);
  if (ring && (blk_size < 4096 || (blk_size & (blk_size - 1)) || blk_nr < 2 || blk_nr > 4096))
    return throw_errno(env, EINVAL, "%s: ring needs blockBytes a power of two >= 4096 and 2..4096 blocks", name);
  if (ring && ring_v != 2 && ring_v != 3)
    return throw_errno(env, EINVAL, "%s: ringVersion must be 2 or 3", name);
  if (ring && ring_v == 2 && (v2_fsz < 256 || v2_fsz > blk_size || v2_fsz % TPACKET_ALIGNMENT))
    return throw_errno(env, EINVAL, "%s: ringFrameBytes must be a multiple of %d in 256..blockBytes", name, TPACKET_ALIGNMENT);

  int ifindex = (int)if_nametoindex(name);
  if (!ifindex) return throw_errno(env, errno ? errno : ENODEV, "interface %s", name);

  port_t *p = port_new(env, K_PACKET, name);
  if (!p) return throw_errno(env, ENOMEM, "%s", name);
  p->ifindex = ifindex;
  int one = 1, e;
  const char *what;
  /* protocol 0: receives nothing until bind(), so the ring is set up first */
  p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd < 0) { what = "socket(AF_PACKET)"; goto fail; }
  if (bypass && setsockopt(p->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) {
    what = "PACKET_QDISC_BYPASS"; goto fail;
  }
  if (ignore_out && setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) {
    what = "PACKET_IGNORE_OUTGOING"; goto fail;
  }
  if (setsockopt(p->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) {
    what = "PACKET_AUXDATA"; goto fail;
  }
  if (sndbuf > 0 && setsockopt(p->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
    setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (rcvbuf > 0 && setsockopt(p->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (ring && ring_v == 2) {
    int v = TPACKET_V2;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) { what = "PACKET_VERSION"; goto fail; }
    struct tpacket_req req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = (unsigned)blk_size;
    req.tp_block_nr = (unsigned)blk_nr;
    req.tp_frame_size = (unsigned)v2_fsz;
    req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * req.tp_block_nr;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) { what = "PACKET_RX_RING"; goto fail; }
    p->ring_v = 2;
    p->blk_size = req.tp_block_size;
    p->blk_nr = req.tp_block_nr;
    p->v2_fsz = req.tp_frame_size;
    p->v2_fpb = req.tp_block_size / req.tp_frame_size;
    p->v2_fnr = req.tp_frame_nr;
    p->v2_cur = 0;
    p->map_len = (size_t)p->blk_size * p->blk_nr;
    p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->fd, 0);
    if (p->map == MAP_FAILED) { p->map = NULL; what = "mmap(RX ring)"; goto fail; }
  } else if (ring) {
    int v = TPACKET_V3;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) { what = "PACKET_VERSION"; goto fail; }
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = (unsigned)blk_size;
    req.tp_block_nr = (unsigned)blk_nr;
    req.tp_frame_size = 2048; /* V3 frames are variable; only a sanity value */
    req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * req.tp_block_nr;
    req.tp_retire_blk_tov = (unsigned)(tov > 0 ? tov : 1);
    if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) { what = "PACKET_RX_RING"; goto fail; }
    p->ring_v = 3;
    p->blk_size = req.tp_block_size;
    p->blk_nr = req.tp_block_nr;
    p->map_len = (size_t)p->blk_size * p->blk_nr;
    p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->fd, 0);
    if (p->map == MAP_FAILED) { p->map = NULL; what = "mmap(RX ring)"; goto fail; }
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(p->fd, (struct sockaddr *)&sll, sizeof sll) < 0) { what = "bind"; goto fail; }
  if (promisc) {
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
      what = "PACKET_MR_PROMISC"; goto fail;
    }
  }
  if ((tx_sock || tx_ring) && (what = open_tx(p, bypass, sndbuf, tx_ring)) != NULL) goto fail;
  return port_finish_open(env, p, argv[2]);

fail:
  e = errno;
  port_close(p);
  free(p);
  return throw_errno(env, e, "interface %s: %s", name, what);
}

/* openTap(name, opts, stats) -> handle; opts: { multiQueue=0, up=1 } */
static napi_value js_open_tap(napi_env env, napi_callback_info info)
{
  size_t argc = 3;
  napi_value argv[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ];
  if (argc < 3) return throw_type(env, "openTap(name, opts, stats)");
  int gs = get_string(env, argv[0], name, sizeof name);
  if (gs == -1) return throw_type(env, "openTap: name must be a string");
  if (gs == -2) return throw_errno(env, EINVAL, "TAP name too long (max %d bytes)", IFNAMSIZ - 1);
  int mq = opt_int(env, argv[1], "multiQueue", 0);
  int up = opt_int(env, argv[1], "up", 1);

  port_t *p = port_new(env, K_TAP, name);
  if (!p) return throw_errno(env, ENOMEM, "%s", name);
  int e, r;
  const char *what;
  p->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (p->fd < 0) { what = "open /dev/net/tun"; goto fail; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (mq ? IFF_MULTI_QUEUE : 0);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(p->fd, TUNSETIFF, &ifr) < 0) { what = "TUNSETIFF"; goto fail; }
  snprintf(p->name, sizeof p->name, "%s", ifr.ifr_name); /* "tap%d" resolved */
  p->ifindex = (int)if_nametoindex(p->name);
  if (up && (r = set_up(p->name, 1)) != 0) { errno = -r; what = "set up"; goto fail; }
  return port_finish_open(env, p, argv[2]);

fail:
  e = errno;
  port_close(p);
  free(p);
  return throw_errno(env, e, "TAP %s: %s", name, what);
}

/* ------------------------------------------------------------------ */
/* start / stop / send / close                                         */
/* ------------------------------------------------------------------ */

/* start(h, buf, off, len, slotBytes, headroom, frameMax, budget, cb)
 * cb(n) is called once per batch with n frames in buf/off/len (n < 0: a
 * fatal poll error, errno -n; polling has stopped). */
static napi_value js_start(napi_env env, napi_callback_info info)
{
  size_t argc = 9;
  napi_value argv[9];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) return throw_type(env, "start(h, buf, off, len, slotBytes, headroom, frameMax, budget, cb)");
  port_t *p = get_port(env, argv[0]);
  if (!p) return NULL;
  if (p->fd < 0) return throw_errno(env, EBADF, "%s: port is closed", p->name);
  uint8_t *buf;
  int32_t *off, *len;
  size_t blen, noff, nlen;
  if (get_bytes(env, argv[1], &buf, &blen) || get_typed(env, argv[2], napi_int32_array, (void **)&off, &noff) ||
      get_typed(env, argv[3], napi_int32_array, (void **)&len, &nlen))
    return throw_type(env, "start: buf must be a Buffer, off/len Int32Arrays");
  uint32_t slot, head, fmax, budget;
  NAPI_OK(napi_get_value_uint32(env, argv[4], &slot));
  NAPI_OK(napi_get_value_uint32(env, argv[5], &head));
  NAPI_OK(napi_get_value_uint32(env, argv[6], &fmax));
  NAPI_OK(napi_get_value_uint32(env, argv[7], &budget));
  napi_valuetype t;
  NAPI_OK(napi_typeof(env, argv[8], &t));
  if (t != napi_function) return throw_type(env, "start: cb must be a function");
  uint32_t cap = (uint32_t)(noff < nlen ? noff : nlen);
  if (slot == 0 || head + fmax > slot || cap == 0 || cap > RX_MAX_BATCH || (size_t)cap * slot > blen)
    return throw_errno(env, EINVAL, "%s: batch geometry does not fit its buffer", p->name);
  if (!budget) budget = cap;

  port_stop(p); /* restart with the new batch */
  p->buf = buf;
  p->buf_len = blen;
  p->off = off;
  p->len = len;
  p->cap = cap;
  p->slot_bytes = slot;
  p->headroom = head;
  p->frame_max = fmax;
  p->budget = budget;
  if (p->kind == K_PACKET && !p->map) {
    p->rx_msgs = calloc(cap, sizeof *p->rx_msgs);
    p->rx_iov = calloc(cap, sizeof *p->rx_iov);
    p->rx_ctl = calloc(cap, CTL_BYTES);
    if (!p->rx_msgs || !p->rx_iov || !p->rx_ctl) {
      port_stop(p);
      return throw_errno(env, ENOMEM, "%s", p->name);
    }
    for (uint32_t j = 0; j < cap; j++) {
      p->rx_msgs[j].msg_hdr.msg_iov = &p->rx_iov[j];
      p->rx_msgs[j].msg_hdr.msg_iovlen = 1;
      p->rx_msgs[j].msg_hdr.msg_control = p->rx_ctl + (size_t)j * CTL_BYTES;
    }
  }
  napi_create_reference(env, argv[1], 1, &p->buf_ref);
  napi_create_reference(env, argv[2], 1, &p->off_ref);
  napi_create_reference(env, argv[3], 1, &p->len_ref);
  napi_create_reference(env, argv[8], 1, &p->cb_ref);
  napi_create_reference(env, argv[0], 1, &p->self_ref);
  napi_value rname;
  NAPI_OK(napi_create_string_utf8(env, "tsvs_io", NAPI_AUTO_LENGTH, &rname));
  NAPI_OK(napi_async_init(env, NULL, rname, &p->actx));
  int r = uv_poll_start(&p->poll, UV_READABLE, on_poll);
  if (r) {
    port_stop(p);
    return throw_errno(env, -r, "%s: uv_poll_start", p->name);
  }
  p->polling = 1;
  return NULL;
}

static napi_value js_stop(napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  port_t *p = argc ? get_port(env, argv[0]) : NULL;
  if (p) port_stop(p);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  port_t *p = argc ? get_port(env, argv[0]) : NULL;
  if (p) port_close(p);
  return NULL;
}

/* sendmmsg frames i0..i1-1 on fd, TX_CHUNK per call; returns frames sent. */
static uint32_t tx_mmsg(port_t *p, int fd, const uint8_t *buf, const int32_t *off, const int32_t *len,
                        uint32_t i, uint32_t count)
{
  double *st = p->stats;
  uint32_t sent = 0;
  while (i < count) {
    uint32_t k = count - i;
    if (k > TX_CHUNK) k = TX_CHUNK;
    for (uint32_t j = 0; j < k; j++) {
      p->tx_iov[j].iov_base = (void *)(buf + off[i + j]);
      p->tx_iov[j].iov_len = (size_t)len[i + j];
    }
    int r = sendmmsg(fd, p->tx_msgs, k, MSG_DONTWAIT);
    st[S_TX_SYSCALLS]++;
    if (r > 0) {
      for (int j = 0; j < r; j++) st[S_TX_BYTES] += len[i + (uint32_t)j];
      sent += (uint32_t)r;
      i += (uint32_t)r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    int e = r < 0 ? errno : EAGAIN;
    if (e == EAGAIN || e == ENETDOWN || e == ENXIO) { /* queue full / link down: drop the rest */
      st[S_TX_DROPPED] += count - i;
      break;
    }
    /* ENOBUFS: the device dropped this frame; EMSGSIZE and others: this
     * frame is bad. Skip it and go on with the rest. */
    if (e == ENOBUFS) st[S_TX_DROPPED]++;
    else st[S_TX_ERRORS]++;
    i++;
  }
  return sent;
}

static inline struct tpacket2_hdr *tx_frame(port_t *p, uint32_t i)
{
  return (struct tpacket2_hdr *)(p->tx_map + (size_t)i * p->tx_fsz);
}

/* Kick the TX ring: the kernel sends every SEND_REQUEST frame from its head
 * on, in this thread (MSG_DONTWAIT: no wait for completions). `first` is
 * the ring index of the first frame queued since the last kick, `n` how many.
 * On an error the kernel leaves the failing frame (and those after it) in
 * SEND_REQUEST with its head on it: they are taken back (dropped) and our
 * cursor is set to the kernel's head. Returns the frames dropped. */
static uint32_t tx_ring_kick(port_t *p, uint32_t first, uint32_t n)
{
  if (!n) return 0;
  double *st = p->stats;
  int r;
  do {
    r = (int)sendto(p->tx_fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
  } while (r < 0 && errno == EINTR);
  st[S_TX_SYSCALLS]++;
  if (r >= 0) return 0;
  int e = errno;
  uint32_t dropped = 0, head = UINT32_MAX;
  for (uint32_t j = 0; j < n; j++) {
    uint32_t k = (first + j) % p->tx_fnr;
    struct tpacket2_hdr *h = tx_frame(p, k);
    if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & (TP_STATUS_SEND_REQUEST | TP_STATUS_WRONG_FORMAT)) {
      if (head == UINT32_MAX) head = k;
      st[S_TX_BYTES] -= h->tp_len - sizeof(struct virtio_net_hdr);
      __atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
      dropped++;
    }
  }
  if (head != UINT32_MAX) p->tx_cur = head;
  if (dropped) {
    if (e == ENOBUFS || e == EAGAIN || e == ENETDOWN || e == ENXIO) st[S_TX_DROPPED] += dropped;
    else st[S_TX_ERRORS] += dropped;
  }
  return dropped;
}

/* Send through the TX ring: copy each frame into the next free ring frame,
 * one sendto() for the batch. A frame longer than TX_RING_MAX_LEN goes out
 * by sendmsg on the receive socket, after what is queued. A ring frame not
 * yet given back by the kernel (its skb still in flight) means the ring is
 * full: kick, and if it is still busy drop the rest of the batch. */
static uint32_t tx_ring_send(port_t *p, const uint8_t *buf, const int32_t *off, const int32_t *len,
                             uint32_t count)
{
  double *st = p->stats;
  uint32_t sent = 0, first = p->tx_cur, queued = 0;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t l = (uint32_t)len[i];
    if (l > TX_RING_MAX_LEN) {
      uint32_t d = tx_ring_kick(p, first, queued);
      sent += queued - d;
      first = p->tx_cur;
      queued = 0;
      sent += tx_mmsg(p, p->fd, buf, off, len, i, i + 1);
      continue;
    }
    struct tpacket2_hdr *h = tx_frame(p, p->tx_cur);
    if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) {
      uint32_t d = tx_ring_kick(p, first, queued);
      sent += queued - d;
      first = p->tx_cur;
      queued = 0;
      h = tx_frame(p, p->tx_cur);
      if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) {
        st[S_TX_DROPPED] += count - i;
        return sent;
      }
    }
    struct virtio_net_hdr *vh = (struct virtio_net_hdr *)((uint8_t *)h + TX_RING_DATA);
    memset(vh, 0, sizeof *vh);
    vh->hdr_len = (uint16_t)l; /* all linear; little-endian host assumed (x86, arm64) */
    memcpy((uint8_t *)(vh + 1), buf + off[i], l);
    h->tp_len = l + (uint32_t)sizeof *vh;
    __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    st[S_TX_BYTES] += l;
    p->tx_cur = (p->tx_cur + 1) % p->tx_fnr;
    queued++;
  }
  uint32_t d = tx_ring_kick(p, first, queued);
  return sent + queued - d;
}

/* send(h, buf, off, len, count) -> frames accepted by the kernel.
 * AF_PACKET: TX ring (one sendto per batch) or sendmmsg (one syscall per
 * TX_CHUNK frames), on the transmit socket. TAP: write() each. */
static napi_value js_send(napi_env env, napi_callback_info info)
{
  size_t argc = 5;
  napi_value argv[5];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_type(env, "send(h, buf, off, len, count)");
  port_t *p = get_port(env, argv[0]);
  if (!p) return NULL;
  uint8_t *buf;
  int32_t *off, *len;
  size_t blen, noff, nlen;
  uint32_t count;
  if (get_bytes(env, argv[1], &buf, &blen) || get_typed(env, argv[2], napi_int32_array, (void **)&off, &noff) ||
      get_typed(env, argv[3], napi_int32_array, (void **)&len, &nlen) ||
      napi_get_value_uint32(env, argv[4], &count) != napi_ok)
    return throw_type(env, "send: buf must be a Buffer, off/len Int32Arrays, count a number");
  if (count > noff || count > nlen) return throw_errno(env, EINVAL, "%s: send count exceeds off/len", p->name);
  napi_value ret;
  if (p->fd < 0) {
    NAPI_OK(napi_create_uint32(env, 0, &ret));
    return ret;
  }
  double *st = p->stats;
  uint32_t sent = 0, i = 0;
  /* defend the edge: every frame must lie inside buf */
  for (uint32_t j = 0; j < count; j++)
    if (off[j] < 0 || len[j] <= 0 || (size_t)off[j] + (size_t)len[j] > blen)
      return throw_errno(env, EINVAL, "%s: frame %u (off %d len %d) outside the buffer", p->name, j, off[j], len[j]);

  if (p->kind == K_TAP) {
    for (; i < count; i++) {
      ssize_t w = write(p->fd, buf + off[i], (size_t)len[i]);
      if (w < 0) {
        if (errno == EAGAIN || errno == EIO || errno == ENOBUFS) st[S_TX_DROPPED]++;
        else st[S_TX_ERRORS]++;
        continue;
      }
      sent++;
      st[S_TX_BYTES] += len[i];
    }
    st[S_TX_SYSCALLS] += count;
  } else if (p->tx_map) {
    sent = tx_ring_send(p, buf, off, len, count);
  } else {
    sent = tx_mmsg(p, p->tx_fd >= 0 ? p->tx_fd : p->fd, buf, off, len, 0, count);
  }
  st[S_TX_PACKETS] += sent;
  NAPI_OK(napi_create_uint32(env, sent, &ret));
  return ret;
}

/* kernelDrops(h): add the socket's PACKET_STATISTICS drops (read-and-reset)
 * to kernelDrops and rxDropped. */
static napi_value js_kernel_drops(napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  port_t *p = argc ? get_port(env, argv[0]) : NULL;
  if (!p) return NULL;
  if (p->kind == K_PACKET && p->fd >= 0 && p->stats) {
    unsigned drops = 0;
    if (p->map) {
      struct tpacket_stats_v3 s;
      socklen_t l = sizeof s;
      if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &s, &l) == 0) drops = s.tp_drops;
    } else {
      struct tpacket_stats s;
      socklen_t l = sizeof s;
      if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &s, &l) == 0) drops = s.tp_drops;
    }
    p->stats[S_KERNEL_DROPS] += drops;
    p->stats[S_RX_DROPPED] += drops;
  }
  return NULL;
}

/* info(h) -> { name, ifindex, kind, fd, polling, ring } */
static napi_value js_info(napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  port_t *p = argc ? get_port(env, argv[0]) : NULL;
  if (!p) return NULL;
  napi_value o, v;
  NAPI_OK(napi_create_object(env, &o));
  NAPI_OK(napi_create_string_utf8(env, p->name, NAPI_AUTO_LENGTH, &v));
  NAPI_OK(napi_set_named_property(env, o, "name", v));
  NAPI_OK(napi_create_int32(env, p->ifindex, &v));
  NAPI_OK(napi_set_named_property(env, o, "ifindex", v));
  NAPI_OK(napi_create_string_utf8(env, p->kind == K_TAP ? "tap" : "packet", NAPI_AUTO_LENGTH, &v));
  NAPI_OK(napi_set_named_property(env, o, "kind", v));
  NAPI_OK(napi_create_int32(env, p->fd, &v));
  NAPI_OK(napi_set_named_property(env, o, "fd", v));
  NAPI_OK(napi_get_boolean(env, p->polling != 0, &v));
  NAPI_OK(napi_set_named_property(env, o, "polling", v));
  NAPI_OK(napi_get_boolean(env, p->map != NULL, &v));
  NAPI_OK(napi_set_named_property(env, o, "ring", v));
  NAPI_OK(napi_get_boolean(env, p->busy != 0, &v));
  NAPI_OK(napi_set_named_property(env, o, "busy", v));
  NAPI_OK(napi_create_uint32(env, p->map ? (uint32_t)p->ring_v : 0, &v));
  NAPI_OK(napi_set_named_property(env, o, "ringVersion", v));
  NAPI_OK(napi_get_boolean(env, p->tx_fd >= 0, &v));
  NAPI_OK(napi_set_named_property(env, o, "txSocket", v));
  NAPI_OK(napi_create_uint32(env, p->tx_map ? p->tx_fnr : 0, &v));
  NAPI_OK(napi_set_named_property(env, o, "txRing", v));
  return o;
}

/* completeChecksum(buf) -> bool: exposes the L4 checksum code to unit tests */
static napi_value js_complete_checksum(napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *b;
  size_t n;
  if (argc < 1 || get_bytes(env, argv[0], &b, &n)) return throw_type(env, "completeChecksum(buf)");
  napi_value v;
  NAPI_OK(napi_get_boolean(env, complete_l4_csum(b, (uint32_t)n) == 0, &v));
  return v;
}

/* setFilter(h, prog | null): attach a classic BPF socket filter to an AF_PACKET
 * port's receive socket (SO_ATTACH_FILTER; prog is struct sock_filter[] as
 * bytes, 8 per instruction, host order), or detach it (null). The datapath's
 * tc offload uses it to keep frames the kernel already forwarded out of user
 * space (AF_PACKET taps run before tc ingress). A TAP port has no filter. */
static napi_value js_set_filter(napi_env env, napi_callback_info info)
{
  size_t argc = 2;
  napi_value argv[2];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "setFilter(h, prog|null)");
  port_t *p = get_port(env, argv[0]);
  if (!p) return NULL;
  if (p->kind != K_PACKET) return throw_errno(env, EOPNOTSUPP, "%s: socket filters need an AF_PACKET port", p->name);
  if (p->fd < 0) return throw_errno(env, EBADF, "%s: port is closed", p->name);
  napi_valuetype t;
  NAPI_OK(napi_typeof(env, argv[1], &t));
  if (t == napi_null || t == napi_undefined) {
    int dummy = 0;
    if (setsockopt(p->fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy) < 0 && errno != ENOENT)
      return throw_errno(env, errno, "%s: SO_DETACH_FILTER", p->name);
    return NULL;
  }
  uint8_t *b;
  size_t n;
  if (get_bytes(env, argv[1], &b, &n) || n == 0 || n % sizeof(struct sock_filter) != 0 ||
      n / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return throw_type(env, "setFilter: prog must be 1..4096 instructions of 8 bytes");
  struct sock_fprog fp = { .len = (unsigned short)(n / sizeof(struct sock_filter)), .filter = (struct sock_filter *)b };
  if (setsockopt(p->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) < 0)
    return throw_errno(env, errno, "%s: SO_ATTACH_FILTER", p->name);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports)
{
  static const struct { const char *name; napi_callback fn; } fns[] = {
    { "openPacket", js_open_packet }, { "openTap", js_open_tap }, { "start", js_start },
    { "stop", js_stop }, { "send", js_send }, { "close", js_close },
    { "kernelDrops", js_kernel_drops }, { "info", js_info }, { "linkInfo", js_link_info },
    { "setLinkUp", js_set_link_up }, { "completeChecksum", js_complete_checksum },
    { "setOffloads", js_set_offloads }, { "setFilter", js_set_filter },
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    NAPI_OK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f));
    NAPI_OK(napi_set_named_property(env, exports, fns[i].name, f));
  }
  napi_value names, s;
  NAPI_OK(napi_create_array_with_length(env, S_COUNT, &names));
  for (uint32_t i = 0; i < S_COUNT; i++) {
    NAPI_OK(napi_create_string_utf8(env, STAT_NAMES[i], NAPI_AUTO_LENGTH, &s));
    NAPI_OK(napi_set_element(env, names, i, s));
  }
  NAPI_OK(napi_set_named_property(env, exports, "statNames", names));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
