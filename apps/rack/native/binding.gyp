{
  "targets": [
    {
      "target_name": "kiln_net",
      "sources": ["src/kiln_net.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
