#!/usr/bin/python3
"""Writes a pcap of diverse frames (the header zoo a switch meets) for
differential tests of tsvs's flow extraction against Open vSwitch's own
(`ovs-ofctl parse-pcap`). Deterministic: seeded. Usage: gen-frames.py OUT.pcap"""
import random
import struct
import sys

from scapy.all import (ARP, ICMP, IP, SCTP, TCP, UDP, Dot1AD, Dot1Q, Ether,
                       ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6, Dot3,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPOption_RR, LLC,
                       SNAP, Raw)
from scapy.contrib.mpls import MPLS

rnd = random.Random(4242)
A = "02:00:00:00:00:01"
B = "02:00:00:00:00:02"
frames = []


def add(p):
    frames.append(bytes(p))


def payload(n=16):
    return Raw(bytes(rnd.randrange(256) for _ in range(n)))


# Plain L3/L4 over IPv4
add(Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2", tos=0xb9, ttl=17) / TCP(sport=1234, dport=80, flags="SA") / payload())
add(Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=53, dport=5353) / payload())
add(Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=3, code=1) / payload(28))
add(Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2") / SCTP(sport=9, dport=10) / payload())
add(Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption_RR()]) / UDP(sport=1, dport=2) / payload())
add(Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2", proto=99) / payload())
# IPv4 fragments: first and later
add(Ether(src=A, dst=B) / IP(src="10.1.0.1", dst="10.1.0.2", flags="MF", frag=0) / UDP(sport=7, dport=8) / payload(32))
add(Ether(src=A, dst=B) / IP(src="10.1.0.1", dst="10.1.0.2", proto=17, frag=5) / payload(32))
# VLANs: 802.1Q, 802.1ad + 802.1Q, priority tag
add(Ether(src=A, dst=B) / Dot1Q(vlan=10, prio=5) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / payload())
add(Ether(src=A, dst=B, type=0x88a8) / Dot1AD(vlan=100, prio=3) / Dot1Q(vlan=20) / IP(src="10.0.0.3", dst="10.0.0.4") / TCP(sport=5, dport=6) / payload())
add(Ether(src=A, dst=B) / Dot1Q(vlan=0, prio=6) / ARP(op=1, psrc="10.0.0.1", pdst="10.0.0.2", hwsrc=A))
# ARP request/reply
add(Ether(src=A, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc="10.9.0.1", pdst="10.9.0.2", hwsrc=A))
add(Ether(src=B, dst=A) / ARP(op=2, psrc="10.9.0.2", pdst="10.9.0.1", hwsrc=B, hwdst=A))
# IPv6 with extension headers
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2", tc=0x2e, fl=0x12345, hlim=9) / TCP(sport=22, dport=2222, flags="PA") / payload())
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() / UDP(sport=11, dport=12) / payload())
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrRouting(addresses=["2001:db8::99"]) / IPv6ExtHdrDestOpt() / UDP(sport=13, dport=14) / payload())
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(offset=0, m=1, id=7) / UDP(sport=15, dport=16) / payload())
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(offset=100, m=0, id=7, nh=17) / payload())
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6EchoRequest(id=1, seq=2))
add(Ether(src=A, dst="33:33:ff:00:00:02") / IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt="2001:db8::2") / ICMPv6NDOptSrcLLAddr(lladdr=A))
add(Ether(src=B, dst=A) / IPv6(src="2001:db8::2", dst="fe80::1", hlim=255) / ICMPv6ND_NA(tgt="2001:db8::2", R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=B))
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2") / SCTP(sport=99, dport=100) / payload())
# MPLS stacks
add(Ether(src=A, dst=B, type=0x8847) / MPLS(label=100, cos=1, s=0, ttl=64) / MPLS(label=200, cos=2, s=1, ttl=63) / IP(src="10.0.0.1", dst="10.0.0.2") / payload())
add(Ether(src=A, dst=B, type=0x8847) / MPLS(label=0xfffff, cos=7, s=1, ttl=1) / payload())
# 802.3 with LLC and with SNAP carrying IPv4
add(Dot3(src=A, dst=B) / LLC(dsap=0x42, ssap=0x42, ctrl=3) / payload(40))
add(Dot3(src=A, dst=B) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) / IP(src="10.5.0.1", dst="10.5.0.2") / UDP(sport=3, dport=4) / payload())
# Slow protocols (LACP) and CFM by ethertype
add(Ether(src=A, dst="01:80:c2:00:00:02", type=0x8809) / payload(110))
add(Ether(src=A, dst="01:80:c2:00:00:30", type=0x8902) / payload(75))

# Truncations of every interesting frame at a few lengths, and random frames.
base = list(frames)
for f in base:
    for cut in (13, 14, 15, 17, 20, 30, 34, 38, 42, 54, 58, 62, 70, 78):
        if cut < len(f):
            frames.append(f[:cut])
for _ in range(300):
    f = bytearray(rnd.choice(base))
    for _ in range(rnd.randrange(1, 4)):
        f[rnd.randrange(len(f))] = rnd.randrange(256)
    frames.append(bytes(f))

# Raw pcap writer: truncated frames must not be re-dissected by scapy.
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, f in enumerate(frames):
        out.write(struct.pack("<IIII", 1_700_000_000 + i, 0, len(f), len(f)))
        out.write(f)
print(len(frames))
