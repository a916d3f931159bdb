#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Check the ICRC of every RoCEv2 packet in a classic pcap file.

An implementation of the IBTA RoCEv2 invariant CRC (Annex A17) that shares
nothing with sroce's C code: CRC-32 (zlib's) over eight bytes of ones, the
IP and UDP headers with their variant fields set to ones, the BTH with its
reserved byte set to ones, and the rest of the packet up to the ICRC, which
is sent least significant byte first.

    icrc_check.py <file.pcap>

Prints "<good> good, <bad> bad ICRCs, <other> other packets" and exits 0 if
there was at least one RoCEv2 packet and none was bad.
"""
import struct
import sys
import zlib

ROCEV2_PORT = 4791


def packets(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('<I', data[:4])
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype, = struct.unpack(endian + 'I', data[20:24])
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + 'IIII', data[off:off + 16])
        off += 16
        yield linktype, data[off:off + incl]
        off += incl


def l3_of(linktype, frame):
    """The IP packet of a frame, or None."""
    if linktype == 1:        # Ethernet
        ethertype, = struct.unpack('>H', frame[12:14])
        return frame[14:] if ethertype in (0x0800, 0x86dd) else None
    if linktype == 113:      # Linux cooked capture
        return frame[16:]
    if linktype == 101:      # raw IP
        return frame
    raise SystemExit('unsupported pcap link type %d' % linktype)


def icrc_ok(ip):
    """None if @ip is not RoCEv2, else whether its ICRC is right."""
    version = ip[0] >> 4
    if version == 4:
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            return None
        total, = struct.unpack('>H', ip[2:4])
        ip = ip[:total]
        masked = bytearray(ip[:ihl])
        masked[1] = 0xff                  # type of service
        masked[8] = 0xff                  # time to live
        masked[10:12] = b'\xff\xff'       # header checksum
        udp_off = ihl
    elif version == 6:
        if ip[6] != 17:
            return None
        plen, = struct.unpack('>H', ip[4:6])
        ip = ip[:40 + plen]
        masked = bytearray(ip[:40])
        masked[0] |= 0x0f                 # traffic class, low half
        masked[1:4] = b'\xff\xff\xff'     # traffic class rest, flow label
        masked[7] = 0xff                  # hop limit
        udp_off = 40
    else:
        return None
    udp = bytearray(ip[udp_off:udp_off + 8])
    if struct.unpack('>H', udp[2:4])[0] != ROCEV2_PORT:
        return None
    udp[6:8] = b'\xff\xff'                # UDP checksum
    bth_and_rest = bytearray(ip[udp_off + 8:])
    if len(bth_and_rest) < 12 + 4:
        return False
    bth_and_rest[4] = 0xff                # BTH reserved byte
    body, icrc = bth_and_rest[:-4], bth_and_rest[-4:]
    crc = zlib.crc32(b'\xff' * 8 + bytes(masked) + bytes(udp) + bytes(body))
    return crc == struct.unpack('<I', icrc)[0]


def main():
    good = bad = other = 0
    for linktype, frame in packets(sys.argv[1]):
        ip = l3_of(linktype, frame)
        verdict = icrc_ok(ip) if ip else None
        if verdict is None:
            other += 1
        elif verdict:
            good += 1
        else:
            bad += 1
    print('%d good, %d bad ICRCs, %d other packets' % (good, bad, other))
    return 0 if good and not bad else 1


if __name__ == '__main__':
    sys.exit(main())
