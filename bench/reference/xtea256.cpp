// Baseline for the XTEA benchmark: PROTOCOL.md's cipher written the way the C++
// LightweightSecureTCP library runs it — round count read at run time, sum and key index
// computed every round, each message copied into a fresh vector and then encrypted block by
// block. Our own code from the spec, compiled with g++ -O2 by bench/xtea.mjs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

static int rounds = 32;
static uint32_t key[8] = {0x12345678, 0x9ABCDEF0, 0x13572468, 0xACEBDF01, 0x11223344, 0x55667788, 0x99AABBCC, 0xDDEEFF00};

static void encryptBlock(uint32_t *v) {
  uint32_t v0 = v[0], v1 = v[1], sum = 0;
  for (int i = 0; i < rounds; i++) {
    v0 += (((v1 << 4) ^ (v1 >> 5)) + v1) ^ (sum + key[sum & 7]);
    sum += 0x9E3779B9;
    v1 += (((v0 << 4) ^ (v0 >> 5)) + v0) ^ (sum + key[(sum >> 11) & 7]);
  }
  v[0] = v0;
  v[1] = v1;
}

static std::vector<uint8_t> encrypt(const std::vector<uint8_t> &in) {
  std::vector<uint8_t> out = in;
  for (size_t i = 0; i < out.size(); i += 8) {
    uint32_t block[2];
    std::memcpy(block, out.data() + i, 8);
    encryptBlock(block);
    std::memcpy(out.data() + i, block, 8);
  }
  return out;
}

static double cpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  size_t messageBytes = argc > 1 ? strtoul(argv[1], nullptr, 10) : 4096;
  double seconds = argc > 2 ? atof(argv[2]) : 1.0;
  if (argc > 3) rounds = atoi(argv[3]);
  std::vector<uint8_t> message(messageBytes, 0x41);
  uint64_t bytes = 0, sink = 0;
  double start = cpuSeconds();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int i = 0; i < 64; i++) {
      std::vector<uint8_t> out = encrypt(message);
      sink += out[i % out.size()];
      bytes += messageBytes;
    }
    elapsed = cpuSeconds() - start;
  }
  printf("{\"mbPerSecond\":%.2f,\"sink\":%llu}\n", bytes / 1e6 / elapsed, (unsigned long long)sink);
  return 0;
}
