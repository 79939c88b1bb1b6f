/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmmp: ask mmpd, the ext4 Multi-Mount Protection daemon, about the volumes
 * it holds, and tell it to claim or release one.  It speaks varlink
 * (interface io.mmpd) over mmpd's unix socket.
 *
 * Conventions, for every function below:
 *
 *  - Return 0 (or a documented non-negative value) on success, a negative
 *    errno on failure.  Out-parameters (ret*) are left untouched on failure.
 *  - After a failed call, mmp_client_last_error() says what went wrong: the
 *    varlink error name when mmpd sent one, a human message, and the device
 *    and holder the error named.  When mmpd refuses, the errno says why:
 *
 *        io.mmpd.VolumeInUse                  -EBUSY        another node holds it
 *        io.mmpd.FsckRunning                  -EINPROGRESS  an e2fsprogs tool holds it
 *        io.mmpd.NoSuchVolume                 -ENOENT       mmpd does not know the device
 *        io.mmpd.NotMmpFilesystem             -EMEDIUMTYPE  not ext4 with the mmp feature
 *        io.mmpd.CorruptMmpBlock              -EUCLEAN      the MMP block does not decode
 *        io.mmpd.IoError                      -EIO
 *        io.mmpd.AlreadyClaimed               -EEXIST       already claimed or being claimed
 *        io.mmpd.NotHeld                      -ENOLCK       not held, so nothing to hand over
 *                                                           or end (LIBMMP_2)
 *        io.mmpd.HandoffFailed                -ECANCELED    no user write in time, another node,
 *                                                           or EndUse first: mmpd claims the
 *                                                           volume again (LIBMMP_2)
 *        io.mmpd.UseInProgress                -EBUSY        the local user still writes the MMP
 *                                                           block (LIBMMP_2)
 *        org.varlink.service.MethodNotFound   -EOPNOTSUPP   an mmpd older than the call (LIBMMP_2)
 *        org.varlink.service.PermissionDenied -EACCES
 *        any other error name                 -EPROTO
 *
 *    Errors that happen on this side have no varlink name:
 *
 *        -ENOENT, -ECONNREFUSED, -EACCES...   from connect(2): mmpd is not there
 *        -ETIMEDOUT     no reply within the timeout (mmp_client_set_timeout)
 *        -ECONNRESET    mmpd closed the connection
 *        -EMSGSIZE      a reply longer than MMP_CLIENT_MAX_MESSAGE
 *        -EBADMSG       a reply that is not the JSON io.mmpd promises
 *        -EBUSY         the client was called from inside one of its own callbacks
 *        -EINVAL        bad arguments;  -ENOMEM
 *
 *  - Nothing here prints, exits, or touches signal dispositions.  SIGPIPE is
 *    avoided with MSG_NOSIGNAL.  EINTR is retried internally.
 *  - A client is one connection and not thread-safe: use one per thread.
 *    Calls are synchronous.  If a call gives up in the middle of a reply
 *    (timeout, a callback asking to stop, a malformed stream), the client
 *    drops the connection and the next call connects again to the same
 *    socket, so a stale reply can never be taken for a new one.
 *  - Objects that libmmp allocates are opaque and read through accessors, so
 *    later versions can add fields without breaking the ABI.  The two
 *    structs a caller allocates (struct mmp_check, struct mmp_block_info)
 *    start with a size field that the caller sets to sizeof(): the library
 *    never writes past it, and sets it to the number of bytes it filled.
 *    Fields may only ever be appended to them.  struct mmp_handoff_opts, which
 *    the library only reads, works the same way: fields past .size are taken
 *    as their defaults.
 *  - Enumerations grow: a later libmmp may return a value that a program
 *    built against an older header does not name (LIBMMP_2 added
 *    MMP_VOLUME_IN_USE and three event types).  Treat a value you do not know
 *    like the _UNKNOWN one, and print the *_get_*_name() string.
 *  - Strings returned by accessors belong to the object they were read from.
 *  - Times named *_usec are CLOCK_BOOTTIME microseconds on the daemon's host
 *    (meaningful on this boot only); *_wall are seconds since the epoch, for
 *    display.
 *
 * Link with pkg-config --libs libmmp.  The symbols are versioned: LIBMMP_1,
 * and LIBMMP_2 for what is marked so below (the use of a volume by a local
 * user: mmp_handoff(), mmp_end_use(), mmp_volume_*use*()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest single message libmmp accepts from mmpd, in bytes. */
#define MMP_CLIENT_MAX_MESSAGE (16u * 1024u * 1024u)

/* Where mmpd listens unless told otherwise. */
#define MMP_DEFAULT_SOCKET "/run/mmpd/io.mmpd"

struct mmp_client;        /* one connection to mmpd */
struct mmp_volume;        /* a volume as mmpd described it (refcounted) */
struct mmp_holder;        /* what a volume's MMP block said (owned by its volume) */
struct mmp_volume_event;  /* an event of a Watch or a Claim (valid during the callback) */
struct mmp_error;         /* what the last failed call said (owned by the client) */

/* ---------------------------------------------------------------------------
 * Connection
 */

/*
 * The socket mmp_client_connect(NULL, ...) uses: $MMPD_SOCKET when set and
 * not empty, else MMP_DEFAULT_SOCKET.  Never NULL.  The string is the
 * environment's or static: copy it before changing the environment.
 */
const char *mmp_default_socket_path(void);

/*
 * Connect to mmpd.  @socket_path: a filesystem path, "@name" for an abstract
 * socket, or a varlink address "unix:PATH" (";parameters" are ignored);
 * NULL means mmp_default_socket_path().  The socket is SOCK_CLOEXEC.
 * On success *ret is a new client, to be freed with mmp_client_free().
 * On failure (-errno from socket(2)/connect(2), -ENAMETOOLONG, -EINVAL,
 * -ENOMEM) there is no client, so no mmp_client_last_error(): the errno is
 * all there is.  Report it with the path, e.g. "cannot reach mmpd at %s".
 */
int mmp_client_connect(const char *socket_path, struct mmp_client **ret);

/* Close the connection and free the client.  Accepts NULL; returns NULL. */
struct mmp_client *mmp_client_free(struct mmp_client *client);

/*
 * The longest libmmp waits for mmpd to send the next message, in
 * microseconds; 0 (the default) waits forever.  It bounds every reply and,
 * in mmp_claim(), every gap between progress events, so a claim that waits
 * W seconds between events needs a timeout above W or none.  mmp_watch()
 * never times out: events may be hours apart.  Returns 0.
 */
int mmp_client_set_timeout(struct mmp_client *client, uint64_t usec);

/* The socket path this client connects to (without any "unix:"). */
const char *mmp_client_get_socket_path(const struct mmp_client *client);

/* ---------------------------------------------------------------------------
 * Errors
 */

/*
 * What the most recent call on @client failed with, or NULL when it
 * succeeded.  Valid until the next call on @client.
 */
const struct mmp_error *mmp_client_last_error(const struct mmp_client *client);

/* What the failed call returned: a negative errno, or the nonzero value an
 * event callback stopped mmp_claim()/mmp_watch() with. */
int mmp_error_get_errno(const struct mmp_error *err);

/* The varlink error name ("io.mmpd.VolumeInUse"), or NULL for an error that
 * happened on this side (a timeout, a closed connection...). */
const char *mmp_error_get_name(const struct mmp_error *err);

/* A one-line human message without a trailing newline, never NULL, e.g.
 * "/dev/sdb is in use by node 'b' (device sdc, seq 1234)". */
const char *mmp_error_get_message(const struct mmp_error *err);

/* The "device" parameter of the error, or NULL. */
const char *mmp_error_get_device(const struct mmp_error *err);

/* VolumeInUse, FsckRunning: the node named in the MMP block, or NULL. */
const char *mmp_error_get_holder_node(const struct mmp_error *err);

/* VolumeInUse: the device name the holder wrote in the MMP block, or NULL. */
const char *mmp_error_get_holder_device(const struct mmp_error *err);

/* VolumeInUse: the sequence number seen on disk.  0, or -ENODATA. */
int mmp_error_get_holder_seq(const struct mmp_error *err, uint32_t *ret);

/* The error's parameters as compact JSON text ("{}" when it had none), or
 * NULL for an error without a varlink name.  For fields without accessor. */
const char *mmp_error_get_parameters_json(const struct mmp_error *err);

/* ---------------------------------------------------------------------------
 * Volumes
 */

enum mmp_volume_state {
        MMP_VOLUME_IDLE,
        MMP_VOLUME_CLAIMING,    /* reading, waiting W, writing, verifying */
        MMP_VOLUME_HELD,        /* heartbeating: this node owns it */
        MMP_VOLUME_RELEASING,
        MMP_VOLUME_RELEASED,
        MMP_VOLUME_REFUSED,     /* the claim found it in use */
        MMP_VOLUME_LOST,        /* was held; a heartbeat could not be proven */
        MMP_VOLUME_IN_USE,      /* handed to a local user that writes the MMP block
                                 * itself; mmpd watches it (LIBMMP_2) */
        MMP_VOLUME_STATE_UNKNOWN = 99,  /* a state newer than this library */
};

/* What a sequence number says about the MMP block (docs/protocol.md, On-disk format). */
enum mmp_seq_kind {
        MMP_SEQ_KIND_ACTIVE,    /* someone may be heartbeating */
        MMP_SEQ_KIND_CLEAN,     /* released cleanly */
        MMP_SEQ_KIND_FSCK,      /* an e2fsprogs tool holds it */
        MMP_SEQ_KIND_INVALID,   /* above FSCK and not CLEAN */
        MMP_SEQ_KIND_UNKNOWN = 99,
};

/* Take a reference; returns @v.  Drop it with mmp_volume_unref(). */
struct mmp_volume *mmp_volume_ref(struct mmp_volume *v);

/* Drop a reference; frees the volume (and its holder) on the last one.
 * Accepts NULL; returns NULL. */
struct mmp_volume *mmp_volume_unref(struct mmp_volume *v);

/* The volume as mmpd sent it, as compact JSON text (an io.mmpd Volume):
 * for --json output and for fields newer than this library.  Made on first
 * use for the volume an mmp_handoff_go_cb gets: NULL then if out of memory. */
const char *mmp_volume_get_json(const struct mmp_volume *v);

const char *mmp_volume_get_name(const struct mmp_volume *v);     /* never NULL */
const char *mmp_volume_get_device(const struct mmp_volume *v);   /* never NULL */
enum mmp_volume_state mmp_volume_get_state(const struct mmp_volume *v);
/* The state as mmpd spelled it ("held"), also for MMP_VOLUME_STATE_UNKNOWN. */
const char *mmp_volume_get_state_name(const struct mmp_volume *v);
/* mmpd's finer step ("waiting-active", "verifying", "idle"...), or "". */
const char *mmp_volume_get_phase(const struct mmp_volume *v);
/* True when the volume comes from mmpd's configuration file. */
bool mmp_volume_is_static(const struct mmp_volume *v);
/* Failed heartbeat attempts since the last good one. */
unsigned mmp_volume_get_failures(const struct mmp_volume *v);
/* The volume's last error as text, or NULL. */
const char *mmp_volume_get_error(const struct mmp_volume *v);

/*
 * Optional numbers: 0 and the value in *ret, or -ENODATA when mmpd did not
 * send it (e.g. no seq before the first read).
 */
int mmp_volume_get_seq(const struct mmp_volume *v, uint32_t *ret);
int mmp_volume_get_update_interval(const struct mmp_volume *v, uint32_t *ret); /* s */
int mmp_volume_get_check_interval(const struct mmp_volume *v, uint32_t *ret);  /* s */
/* W: how long a peer waits between its two reads, in seconds. */
int mmp_volume_get_wait_seconds(const struct mmp_volume *v, uint32_t *ret);
int mmp_volume_get_last_heartbeat_usec(const struct mmp_volume *v, uint64_t *ret);
/* Age of the last heartbeat when mmpd answered. */
int mmp_volume_get_last_heartbeat_age_usec(const struct mmp_volume *v, uint64_t *ret);
/* When mmpd starts fencing local users if no heartbeat lands before. */
int mmp_volume_get_fence_at_usec(const struct mmp_volume *v, uint64_t *ret);
int mmp_volume_get_fence_at_wall(const struct mmp_volume *v, int64_t *ret);
/* The earliest a peer may write the MMP block / use the data. */
int mmp_volume_get_peer_write_at_usec(const struct mmp_volume *v, uint64_t *ret);
int mmp_volume_get_peer_use_at_usec(const struct mmp_volume *v, uint64_t *ret);

/*
 * The volume's local user (LIBMMP_2): the kernel's ext4 mount ("kernel") or
 * an e2fsprogs tool ("tool") that mmpd handed the volume to with
 * mmp_handoff() and now watches.  Present from the handoff until the use has
 * ended, whatever the volume's state; absent fields read as NULL/-ENODATA.
 */
/* True while mmpd reports a use: being handed over, in use, or ending. */
bool mmp_volume_in_use(const struct mmp_volume *v);
/* "kernel" or "tool" (as mmpd spelled it), or NULL without a use. */
const char *mmp_volume_get_use_user(const struct mmp_volume *v);
/* "fast" (mmpd wrote CLEAN) or "wait" (mmpd stopped writing), or NULL. */
const char *mmp_volume_get_use_mode(const struct mmp_volume *v);
/* "handing_off" (waiting for the user's first write), "in_use", "ending",
 * or NULL without a use. */
const char *mmp_volume_get_use_phase(const struct mmp_volume *v);
/* The process that runs the tool; 0, or -ENODATA. */
int mmp_volume_get_use_pid(const struct mmp_volume *v, pid_t *ret);
/* Where the kernel mounted it, or NULL. */
const char *mmp_volume_get_use_mount_point(const struct mmp_volume *v);
/* Whether mmpd claims the volume again when the use ends (false without a use). */
bool mmp_volume_get_use_keep(const struct mmp_volume *v);
/* When the use began, and when its phase last changed (CLOCK_BOOTTIME). */
int mmp_volume_get_use_since_usec(const struct mmp_volume *v, uint64_t *ret);
int mmp_volume_get_use_last_change_usec(const struct mmp_volume *v, uint64_t *ret);
/* What the user last wrote in the MMP block: sequence, node, device. */
int mmp_volume_get_use_user_seq(const struct mmp_volume *v, uint32_t *ret);
const char *mmp_volume_get_use_user_node(const struct mmp_volume *v);   /* or NULL */
const char *mmp_volume_get_use_user_device(const struct mmp_volume *v); /* or NULL */

/*
 * What the volume's MMP block said last time mmpd read it (for a refused or
 * lost volume: the other node), or NULL.  Owned by @v.
 */
const struct mmp_holder *mmp_volume_get_holder(const struct mmp_volume *v);

const char *mmp_holder_get_node(const struct mmp_holder *h);    /* never NULL */
const char *mmp_holder_get_device(const struct mmp_holder *h);  /* never NULL */
uint32_t mmp_holder_get_seq(const struct mmp_holder *h);
enum mmp_seq_kind mmp_holder_get_seq_kind(const struct mmp_holder *h);
int64_t mmp_holder_get_time_wall(const struct mmp_holder *h);   /* mmp_time */
uint32_t mmp_holder_get_check_interval(const struct mmp_holder *h);

/*
 * List every volume mmpd knows.  On success *ret_volumes is a new array of
 * *ret_n volumes (each with one reference), to be freed with mmp_list_free().
 */
int mmp_list(struct mmp_client *client, struct mmp_volume ***ret_volumes, size_t *ret_n);

/* Unref @n volumes and free the array.  Accepts NULL. */
void mmp_list_free(struct mmp_volume **volumes, size_t n);

/* ---------------------------------------------------------------------------
 * Events (mmp_watch, and progress while mmp_claim waits)
 */

enum mmp_volume_event_type {
        MMP_VOLUME_EVENT_PROGRESS,       /* a claim moved on to another phase */
        MMP_VOLUME_EVENT_CLAIMED,
        MMP_VOLUME_EVENT_REFUSED,
        MMP_VOLUME_EVENT_RELEASED,
        MMP_VOLUME_EVENT_LOST,
        MMP_VOLUME_EVENT_SLOW_IO,        /* an MMP I/O took long: see io_usec */
        MMP_VOLUME_EVENT_CHECK_INTERVAL, /* the check_interval mmpd writes changed */
        MMP_VOLUME_EVENT_REMOVED,        /* mmpd forgot the volume */
        MMP_VOLUME_EVENT_HANDOFF,        /* mmpd handed the volume to a local user (LIBMMP_2) */
        MMP_VOLUME_EVENT_IN_USE,         /* the user's first write landed: mmpd watches it */
        MMP_VOLUME_EVENT_USE_ENDED,      /* the user is done; mmpd releases or claims again */
        MMP_VOLUME_EVENT_UNKNOWN = 99,   /* a type newer than this library */
};

enum mmp_volume_event_type mmp_volume_event_get_type(const struct mmp_volume_event *ev);
/* The type as mmpd spelled it ("claimed"), also for _UNKNOWN. */
const char *mmp_volume_event_get_type_name(const struct mmp_volume_event *ev);
/* The volume after the event.  Borrowed: mmp_volume_ref() it to keep it. */
struct mmp_volume *mmp_volume_event_get_volume(const struct mmp_volume_event *ev);
/* Why (refused, lost, released with an error), or NULL. */
const char *mmp_volume_event_get_reason(const struct mmp_volume_event *ev);
/* SLOW_IO: how long the I/O took.  0, or -ENODATA. */
int mmp_volume_event_get_io_usec(const struct mmp_volume_event *ev, uint64_t *ret);
/* The event as compact JSON text (an io.mmpd Event). */
const char *mmp_volume_event_get_json(const struct mmp_volume_event *ev);

/*
 * Called for each event.  @ev is valid only during the call.  Return 0 to go
 * on; any other value stops the wait and becomes the return value of
 * mmp_claim()/mmp_watch() (the connection is then dropped: see above).
 * Calling libmmp on the same @client from here fails with -EBUSY.
 */
typedef int (*mmp_volume_event_cb)(struct mmp_client *client,
                                   const struct mmp_volume_event *ev, void *userdata);

/* ---------------------------------------------------------------------------
 * Methods
 */

/*
 * Ask mmpd to claim @device (a path), registering it as @name (NULL: mmpd
 * uses the path).  Blocks until the claim is decided: at least W seconds,
 * usually 2W (~42 s with default intervals).  With @progress_cb, mmpd
 * streams events while it waits and verifies, and the callback sees each
 * one; without, it answers once.  mmpd goes on claiming if the caller stops
 * waiting.  On success *ret (if @ret is not NULL) is the held volume.
 * Root or mmpd's admin group only.  Refusals: -EBUSY (another node, see
 * mmp_error_get_holder_node()), -EINPROGRESS, -EEXIST, -EMEDIUMTYPE,
 * -EUCLEAN, -EIO.
 */
int mmp_claim(struct mmp_client *client, const char *device, const char *name,
              mmp_volume_event_cb progress_cb, void *userdata, struct mmp_volume **ret);

/*
 * Ask mmpd to release @device (a path or a volume name): when held, mmpd
 * writes the CLEAN sequence.  On success *ret (if not NULL) is the volume as
 * released.  -ENOENT when mmpd does not know the device.  Root or admin group.
 */
int mmp_release(struct mmp_client *client, const char *device, struct mmp_volume **ret);

/*
 * The answer to "may this node touch @device now?".  Caller-allocated: set
 * .size = sizeof(struct mmp_check) first (MMP_CHECK_INIT does).  Free what
 * it holds with mmp_check_clear().
 */
struct mmp_check {
        size_t size;                    /* in: sizeof; out: bytes filled */
        bool may_use;                   /* held, and the fence deadline is ahead */
        bool has_guarantee;             /* the guaranteed_* fields are set */
        uint64_t guaranteed_until_usec; /* CLOCK_BOOTTIME: may use until then */
        int64_t guaranteed_until_wall;  /* the same, in wall-clock seconds */
        uint64_t guaranteed_for_usec;   /* until - CLOCK_BOOTTIME when the reply came
                                         * (0 if already past) */
        struct mmp_volume *volume;      /* the volume; owned, see mmp_check_clear() */
};
#define MMP_CHECK_INIT { .size = sizeof(struct mmp_check) }

/*
 * Check @device.  Returns 0 whether or not the node may use it: read
 * ret->may_use.  -ENOENT when mmpd does not know the device (so it is not
 * held either).  -EINVAL when ret->size is smaller than LIBMMP_1's struct.
 */
int mmp_check(struct mmp_client *client, const char *device, struct mmp_check *ret);

/* Drop the volume reference in @check; its other fields are kept. */
void mmp_check_clear(struct mmp_check *check);

/*
 * Follow every volume's events until @event_cb returns nonzero (that value is
 * returned), mmpd ends the stream (0) or closes the connection (-ECONNRESET).
 * Not bounded by mmp_client_set_timeout().
 */
int mmp_watch(struct mmp_client *client, mmp_volume_event_cb event_cb, void *userdata);

/*
 * A device's MMP block, decoded by mmpd without claiming anything.
 * Caller-allocated: set .size = sizeof(struct mmp_block_info) first
 * (MMP_BLOCK_INFO_INIT does).  Names on disk are at most 64 (node) and 32
 * (device) bytes; mmpd may escape unprintable bytes, hence the room.  A name
 * longer than the buffer is cut at a character boundary.
 */
struct mmp_block_info {
        size_t size;                    /* in: sizeof; out: bytes filled */
        uint64_t block_number;          /* s_mmp_block */
        uint32_t block_size;
        uint32_t update_interval;       /* s_mmp_update_interval, seconds */
        uint32_t check_interval;        /* mmp_check_interval, seconds */
        uint32_t seq;
        enum mmp_seq_kind seq_kind;
        int64_t time_wall;              /* mmp_time */
        char node[257];                 /* mmp_nodename, NUL-terminated */
        char device[129];               /* mmp_bdevname, NUL-terminated */
        uint32_t magic;
        uint32_t checksum;
        bool checksum_valid;
        bool metadata_csum;             /* the checksum is in use at all */
        uint32_t wait_seconds;          /* W for this block, seconds */
};
#define MMP_BLOCK_INFO_INIT { .size = sizeof(struct mmp_block_info) }

/* Read @device's MMP block.  -EMEDIUMTYPE, -EUCLEAN, -EIO as for claims. */
int mmp_inspect(struct mmp_client *client, const char *device, struct mmp_block_info *ret);

/* ---------------------------------------------------------------------------
 * Handing a held volume to a local user (LIBMMP_2)
 *
 * The kernel's ext4 mount and e2fsprogs' tools run MMP themselves: while they
 * use a volume mmpd must not write its MMP block, but it goes on watching it.
 * mmp_handoff() moves a held volume to such a user; mmp_end_use() gives it
 * back when the user is done.  Root or mmpd's admin group only.
 */

enum mmp_use_user {
        MMP_USE_KERNEL = 1,     /* an ext4 mount: give mount_point */
        MMP_USE_TOOL = 2,       /* a program on libext2fs: give pid */
};

enum mmp_handoff_mode {
        MMP_HANDOFF_MODE_DEFAULT = 0,   /* the volume's configured mode */
        MMP_HANDOFF_MODE_FAST,          /* mmpd writes CLEAN: the user starts at once */
        MMP_HANDOFF_MODE_WAIT,          /* mmpd stops writing: the user waits W itself */
};

/*
 * Caller-allocated and only read: set .size = sizeof(struct mmp_handoff_opts)
 * (MMP_HANDOFF_OPTS_INIT does); fields past .size take their defaults.
 */
struct mmp_handoff_opts {
        size_t size;                    /* sizeof(struct mmp_handoff_opts) */
        enum mmp_use_user user;         /* required */
        pid_t pid;                      /* MMP_USE_TOOL: the process that will run the
                                         * tool (mmpd ends the use when it exits) */
        const char *mount_point;        /* MMP_USE_KERNEL: where it is mounted, or NULL */
        bool keep;                      /* when the use ends, claim the volume again
                                         * instead of releasing it */
        enum mmp_handoff_mode mode;
};
#define MMP_HANDOFF_OPTS_INIT { .size = sizeof(struct mmp_handoff_opts) }

/*
 * Called once, the moment the user may start: mmpd has written CLEAN (mode
 * fast) or stopped writing (mode wait).  Start the user here and return 0,
 * e.g. mount(2) or release a forked child that waits to exec the tool; every
 * moment spent before that is a moment the volume has no writer.  @volume
 * (borrowed: mmp_volume_ref() it to keep it) is the volume as mmpd handed it
 * over.  Return a negative errno when the user could not be started: the
 * call is abandoned (see mmp_handoff()).  Calling libmmp on the same @client
 * from here fails with -EBUSY.
 */
typedef int (*mmp_handoff_go_cb)(struct mmp_client *client, struct mmp_volume *volume,
                                 void *userdata);

/*
 * Hand the held volume @device to the user that @opts describe.  Prepare
 * the user first (a mount context, a child waiting to exec), so that @go
 * only has to start it.  The call blocks until mmpd says go (then @go runs,
 * synchronously) and then until the user's first write is on disk and mmpd
 * watches it: 0, and *ret (if not NULL) is the volume, in state
 * MMP_VOLUME_IN_USE.  A user that came and went before mmpd saw it in use
 * (a tool that exited at once) also ends the call with 0: the volume is
 * then already released, or being claimed again.  Check the state.
 *
 * When @go returns a negative errno, mmp_handoff() returns it at once (the
 * last error says so) and drops the connection; the client connects again
 * on its next call.  The volume is then still handed over, with no user:
 * call mmp_end_use(client, device, 1, ...) so mmpd claims it back.
 *
 * Other failures: -ENOLCK (not held, e.g. still claiming), -ECANCELED
 * (HandoffFailed: no user write before mmpd's handoff timeout, another
 * node's write, or mmp_end_use() first; mmpd claims the volume again), the
 * errors of mmp_claim(), -EOPNOTSUPP from an mmpd without handoffs, -EINVAL
 * for a missing @go, a bad @opts->user, a tool without @opts->pid or
 * @opts->size smaller than LIBMMP_2's struct.  mmp_client_set_timeout()
 * bounds the wait for each of the two replies, not the time spent in @go.
 */
int mmp_handoff(struct mmp_client *client, const char *device,
                const struct mmp_handoff_opts *opts, mmp_handoff_go_cb go, void *userdata,
                struct mmp_volume **ret);

/*
 * The local user of @device is done (umount(2) returned, the tool exited),
 * or it never started (a mount error after @go): mmpd reads the MMP block
 * and releases the volume, or claims it again.  @keep: 1 claim it again, 0
 * release it, -1 as given to mmp_handoff().  After a failed handoff mmpd
 * always claims it again.  Returns once released, or once the new claim has
 * started: *ret (if not NULL) is the volume then, MMP_VOLUME_RELEASED or
 * MMP_VOLUME_CLAIMING (follow it with mmp_check() or mmp_watch()).
 * -EBUSY (UseInProgress) while the user still writes its MMP block
 * (mmp_error_get_holder_node() and _seq() say what is on disk), -ENOLCK
 * when mmpd does not hold or hand over the volume, -ENOENT when it does not
 * know it, -EINVAL for a @keep other than -1, 0, 1.
 */
int mmp_end_use(struct mmp_client *client, const char *device, int keep,
                struct mmp_volume **ret);

#ifdef __cplusplus
}
#endif
