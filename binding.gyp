{
  "targets": [
    {
      "target_name": "berth_native",
      "sources": [
        "native/addon.c",
        "native/common.c",
        "native/fds.c",
        "native/fs_at.c",
        "native/mount.c",
        "native/netlink.c",
        "native/poll.c",
        "native/sockets.c",
        "native/spawn.c",
        "native/system.c"
      ],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"]
    },
    {
      "target_name": "berth-pause",
      "type": "executable",
      "sources": ["native/berth_pause.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"]
    }
  ]
}
