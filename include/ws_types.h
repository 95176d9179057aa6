/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Basic types shared by the BPF programs (built with clang -target bpf
 * against vmlinux.h) and by user space (built natively against the libc
 * and uapi headers).  Nothing in include/ may pull a header that exists in
 * only one of the two worlds, apart from what is selected here.
 */
#ifndef WS_TYPES_H
#define WS_TYPES_H

#ifdef __bpf__
/* vmlinux.h has already been included by the BPF program */
#else
#include <linux/types.h>
#include <stddef.h>
#endif

#define WS_INLINE static inline __attribute__((always_inline))

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ws_ntohs(x) ((__u16)__builtin_bswap16((__u16)(x)))
#define ws_ntohl(x) ((__u32)__builtin_bswap32((__u32)(x)))
#else
#define ws_ntohs(x) ((__u16)(x))
#define ws_ntohl(x) ((__u32)(x))
#endif
#define ws_htons(x) ws_ntohs(x)
#define ws_htonl(x) ws_ntohl(x)

#endif /* WS_TYPES_H */
