/*
 * tsvs-blast: frame blaster and counter for tsvs forwarding benchmarks.
 * Built at install by binding.gyp (build/Release/tsvs-blast).
 *
 *   tsvs-blast tx -i IF [-n FRAMES] [-t SECS] [-s SIZE] [-b BATCH] [-f FLOWS]
 *                 [--smac MAC] [--dmac MAC]
 *       Send Ethernet/IPv4/UDP frames (SIZE bytes on the wire incl. FCS,
 *       default 64 = 60-byte buffers) as fast as possible through an AF_PACKET
 *       socket with sendmmsg (BATCH per call, PACKET_QDISC_BYPASS), until
 *       FRAMES are sent or SECS pass. FLOWS varies IPs/ports round-robin.
 *   tsvs-blast rx -i IF [-t SECS] [-w IDLE_SECS] [-n FRAMES]
 *       Count our frames (UDP payload starts with the magic; a kernel BPF
 *       filter drops everything else and our own outgoing frames) from a
 *       TPACKET_V3 ring. Stops after SECS, after IDLE_SECS without frames
 *       once some arrived, or when FRAMES were counted. The rate uses kernel
 *       receive timestamps: frames / (last - first).
 *
 * Each mode prints one JSON object on stdout. Frames use the RFC 2544
 * benchmark range 198.18.0.0/15 and never leave the interfaces under test.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif

#define MAGIC 0x74736273u /* "tsbs", first word of the UDP payload */
#define MAX_LEN 1514
#define MAX_BATCH 1024

static volatile sig_atomic_t stop_flag;
static void on_signal(int s) { (void)s; stop_flag = 1; }

static double mono(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_secs(void)
{
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (double)r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6 + (double)r.ru_stime.tv_sec +
         r.ru_stime.tv_usec * 1e-6;
}

static void fail(const char *what, const char *ifname)
{
  printf("{\"error\":\"%s: %s\",\"if\":\"%s\"}\n", what, strerror(errno), ifname ? ifname : "");
  exit(1);
}

static int parse_mac(const char *s, uint8_t *m)
{
  return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}

static int open_bound(const char *ifname, int proto)
{
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket(AF_PACKET)", ifname);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons((uint16_t)proto);
  sll.sll_ifindex = (int)if_nametoindex(ifname);
  if (!sll.sll_ifindex) fail("no such interface", ifname);
  if (proto == 0) { /* transmit only: bind now, nothing is received */
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) fail("bind", ifname);
  }
  return fd;
}

static void bind_all(int fd, const char *ifname)
{
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = (int)if_nametoindex(ifname);
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) fail("bind", ifname);
}

static uint16_t ip_csum(const uint8_t *h)
{
  uint32_t s = 0;
  for (int i = 0; i < 20; i += 2) s += (uint32_t)(h[i] << 8 | h[i + 1]);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

/* One frame per flow, `len` bytes each (no FCS). */
static uint8_t *templates(int flows, int len, const uint8_t *smac, const uint8_t *dmac)
{
  uint8_t *t = calloc((size_t)flows, (size_t)len);
  if (!t) fail("calloc", NULL);
  for (int i = 0; i < flows; i++) {
    uint8_t *f = t + (size_t)i * len, *ip = f + 14, *udp = ip + 20;
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    f[12] = 0x08;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((len - 14) >> 8);
    ip[3] = (uint8_t)(len - 14);
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 17;
    uint32_t sip = 0xC6120000u + (uint32_t)i, dip = 0xC6130000u + ((31u * (uint32_t)i) & 0xffffu);
    for (int k = 0; k < 4; k++) {
      ip[12 + k] = (uint8_t)(sip >> (24 - 8 * k));
      ip[16 + k] = (uint8_t)(dip >> (24 - 8 * k));
    }
    uint16_t c = ip_csum(ip);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint16_t sp = (uint16_t)(1024 + i % 64000), dp = (uint16_t)(1024 + (7 * i) % 64000), ul = (uint16_t)(len - 34);
    udp[0] = (uint8_t)(sp >> 8); udp[1] = (uint8_t)sp;
    udp[2] = (uint8_t)(dp >> 8); udp[3] = (uint8_t)dp;
    udp[4] = (uint8_t)(ul >> 8); udp[5] = (uint8_t)ul;
    /* UDP checksum 0: none (legal for IPv4) */
    uint32_t m = htonl(MAGIC), fid = htonl((uint32_t)i);
    memcpy(udp + 8, &m, 4);
    memcpy(udp + 12, &fid, 4);
  }
  return t;
}

static int do_tx(const char *ifname, uint64_t limit, double secs, int size, int batch, int flows,
                 const uint8_t *smac, const uint8_t *dmac)
{
  int len = size - 4;
  if (len < 60) len = 60;
  if (len > MAX_LEN) len = MAX_LEN;
  uint8_t *tpl = templates(flows, len, smac, dmac);
  int fd = open_bound(ifname, 0);
  int one = 1, sndbuf = 4 << 20;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  static struct mmsghdr msgs[MAX_BATCH];
  static struct iovec iov[MAX_BATCH];
  for (int j = 0; j < batch; j++) {
    iov[j].iov_len = (size_t)len;
    msgs[j].msg_hdr.msg_iov = &iov[j];
    msgs[j].msg_hdr.msg_iovlen = 1;
  }
  uint64_t sent = 0, seq = 0, calls = 0, failed = 0;
  double t0 = mono(), c0 = cpu_secs(), tend = secs > 0 ? t0 + secs : 1e300;
  while (!stop_flag && sent < limit) {
    int n = batch;
    if (limit - sent < (uint64_t)n) n = (int)(limit - sent);
    for (int j = 0; j < n; j++) iov[j].iov_base = tpl + (size_t)((seq + (uint64_t)j) % (uint64_t)flows) * len;
    int r = sendmmsg(fd, msgs, (unsigned)n, 0);
    calls++;
    if (r < 0) {
      if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) fail("sendmmsg", ifname);
      failed++;
      r = 0;
    }
    sent += (uint64_t)r;
    seq += (uint64_t)r;
    if ((calls & 15) == 0 && mono() >= tend) break;
  }
  double dt = mono() - t0, cpu = cpu_secs() - c0;
  printf("{\"mode\":\"tx\",\"if\":\"%s\",\"size\":%d,\"flows\":%d,\"batch\":%d,\"frames\":%llu,"
         "\"secs\":%.6f,\"pps\":%.0f,\"syscalls\":%llu,\"failedCalls\":%llu,\"cpuPct\":%.1f}\n",
         ifname, len + 4, flows, batch, (unsigned long long)sent, dt, dt > 0 ? (double)sent / dt : 0.0,
         (unsigned long long)calls, (unsigned long long)failed, dt > 0 ? 100.0 * cpu / dt : 0.0);
  return 0;
}

static void attach_filter(int fd, const char *ifname)
{
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 5, 0),
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 42),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MAGIC, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0xffff),
    BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) fail("SO_ATTACH_FILTER", ifname);
}

static int do_rx(const char *ifname, double secs, double idle, uint64_t limit)
{
  int fd = open_bound(ifname, -1);
  attach_filter(fd, ifname);
  int v = TPACKET_V3;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) fail("PACKET_VERSION", ifname);
  struct tpacket_req3 req;
  memset(&req, 0, sizeof req);
  req.tp_block_size = 1u << 18;
  req.tp_block_nr = 64;
  req.tp_frame_size = 2048;
  req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * req.tp_block_nr;
  req.tp_retire_blk_tov = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) fail("PACKET_RX_RING", ifname);
  size_t map_len = (size_t)req.tp_block_size * req.tp_block_nr;
  uint8_t *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (map == MAP_FAILED) fail("mmap", ifname);
  bind_all(fd, ifname);
  /* ready: the caller may start the sender once this line is on stderr */
  fprintf(stderr, "rx ready on %s\n", ifname);

  uint64_t frames = 0, bytes = 0;
  double first = 0, last = 0, t0 = mono(), c0 = cpu_secs(), tend = secs > 0 ? t0 + secs : 1e300;
  double last_seen = 0;
  unsigned cur = 0;
  while (!stop_flag && frames < limit) {
    struct tpacket_block_desc *b = (void *)(map + (size_t)cur * req.tp_block_size);
    if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
      struct pollfd p = { fd, POLLIN, 0 };
      poll(&p, 1, 20);
      double now = mono();
      if (now >= tend) break;
      if (frames && idle > 0 && now - last_seen > idle) break;
      continue;
    }
    struct tpacket3_hdr *h = (void *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
    for (unsigned k = 0; k < b->hdr.bh1.num_pkts; k++) {
      double ts = (double)h->tp_sec + h->tp_nsec * 1e-9;
      if (!frames) first = ts;
      last = ts;
      frames++;
      bytes += h->tp_len;
      h = (void *)((uint8_t *)h + h->tp_next_offset);
    }
    __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    cur = (cur + 1) % req.tp_block_nr;
    last_seen = mono();
  }
  struct tpacket_stats_v3 st;
  socklen_t sl = sizeof st;
  memset(&st, 0, sizeof st);
  getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
  double wall = mono() - t0, cpu = cpu_secs() - c0, span = last - first;
  printf("{\"mode\":\"rx\",\"if\":\"%s\",\"frames\":%llu,\"bytes\":%llu,\"spanSecs\":%.6f,\"pps\":%.0f,"
         "\"kernelDrops\":%u,\"cpuPct\":%.1f}\n",
         ifname, (unsigned long long)frames, (unsigned long long)bytes, span,
         span > 0 ? (double)frames / span : 0.0, st.tp_drops, wall > 0 ? 100.0 * cpu / wall : 0.0);
  return 0;
}

static void usage(void)
{
  fprintf(stderr,
          "usage: tsvs-blast tx -i IF [-n FRAMES] [-t SECS] [-s SIZE] [-b BATCH] [-f FLOWS] [--smac M] [--dmac M]\n"
          "       tsvs-blast rx -i IF [-t SECS] [-w IDLE_SECS] [-n FRAMES]\n"
          "defaults: -s 64 (incl. FCS) -b 64 -f 1 -t 5 -w 1; smac 02:00:00:00:00:0a dmac 02:00:00:00:00:0b\n");
  exit(2);
}

int main(int argc, char **argv)
{
  if (argc < 2) usage();
  const char *mode = argv[1], *ifname = NULL;
  uint64_t limit = UINT64_MAX;
  double secs = 5, idle = 1;
  int size = 64, batch = 64, flows = 1;
  uint8_t smac[6] = { 2, 0, 0, 0, 0, 0x0a }, dmac[6] = { 2, 0, 0, 0, 0, 0x0b };
  static struct option lo[] = { { "smac", required_argument, 0, 'S' }, { "dmac", required_argument, 0, 'D' }, { 0, 0, 0, 0 } };
  optind = 2;
  int c;
  while ((c = getopt_long(argc, argv, "i:n:t:s:b:f:w:", lo, NULL)) != -1) {
    switch (c) {
    case 'i': ifname = optarg; break;
    case 'n': limit = strtoull(optarg, NULL, 0); break;
    case 't': secs = atof(optarg); break;
    case 's': size = atoi(optarg); break;
    case 'b': batch = atoi(optarg); break;
    case 'f': flows = atoi(optarg); break;
    case 'w': idle = atof(optarg); break;
    case 'S': if (parse_mac(optarg, smac)) usage(); break;
    case 'D': if (parse_mac(optarg, dmac)) usage(); break;
    default: usage();
    }
  }
  if (!ifname) usage();
  if (batch < 1) batch = 1;
  if (batch > MAX_BATCH) batch = MAX_BATCH;
  if (flows < 1) flows = 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(mode, "tx")) return do_tx(ifname, limit, secs, size, batch, flows, smac, dmac);
  if (!strcmp(mode, "rx")) return do_rx(ifname, secs, idle, limit);
  usage();
  return 2;
}
