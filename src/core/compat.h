/*
 * core/compat.h - build differences kept out of function bodies.
 */
#ifndef TALON_COMPAT_H
#define TALON_COMPAT_H

#ifndef __has_feature
#define __has_feature(x) 0
#endif

/* Built with AddressSanitizer (the test build)?  LeakSanitizer needs /proc
 * at exit, which a chrooted process no longer sees. */
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define TALON_SANITIZER_BUILD 1
#else
#define TALON_SANITIZER_BUILD 0
#endif

#endif
