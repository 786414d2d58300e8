# Native parts of tsvs, built by `npm ci`/`npm install` (package.json "install").
#   tsvs_io     N-API addon: batched AF_PACKET / TAP I/O (datapath/native/)
#   tsvs-blast  frame blaster/counter for benchmarks (bench/native/)
{
  "targets": [
    {
      "target_name": "tsvs_io",
      "sources": ["datapath/native/tsvs_io.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    },
    {
      "target_name": "tsvs-blast",
      "type": "executable",
      "sources": ["bench/native/blast.c"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra"]
    }
  ]
}
