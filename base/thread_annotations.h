// Clang thread-safety annotations (as leveldb's port/thread_annotations.h). They document which
// mutex guards a member; under clang -Wthread-safety they are also checked. No-ops on g++.
#pragma once

#if defined(__clang__)
#define BURROW_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define BURROW_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) BURROW_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) BURROW_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) BURROW_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) BURROW_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) BURROW_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
