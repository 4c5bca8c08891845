{
  "targets": [
    {
      "target_name": "berth_native",
      "sources": ["native/berth_native.c"],
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
