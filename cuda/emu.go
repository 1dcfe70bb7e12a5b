package cuda

// The SIMT emulator: the kernels run without a GPU, slowly, in any build on
// a machine with clang++. clang++ compiles kernelSource together with the
// harness below into a native program; every CUDA thread of a block is a
// fiber (ucontext), __syncthreads is a block-wide barrier,
// __shfl_down_sync/__ballot_sync exchange values at warp-wide barriers, and
// a barrier reached by only part of its scope is reported as divergence.
// Blocks run one after another and threads between barriers one after
// another, both in varying orders; grids are capped at 16 blocks (every
// kernel is written for any grid size), so each fiber loops over more
// elements. cuBLAS is emulated by a column-major
// reference SGEMM (float64 accumulation). The Go side talks to the program
// over a pipe and implements the Context backend, so the GPU check suite
// (check_test.go) and the device paths of models, optimizer, classify and
// plasticity run unchanged on it (cuda/devtest opens it for their tests).
// It is a test device: nothing in the toolkit chooses it on its own.

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const emuHarness = `
#include <cmath>
#include <numeric>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <type_traits>
#include <vector>
#include <ucontext.h>
#include <setjmp.h>

struct emu_dim3 { unsigned x, y, z; };
struct emu_thread { emu_dim3 tid; int state; ucontext_t ctx; jmp_buf jb; char* stack; bool started; };
enum { RUN = 0, WARP_BAR = 1, BLOCK_BAR = 2, DONE = 3 };
static emu_dim3 emu_block, emu_bdim, emu_gdim;
static emu_thread emu_t[1024];
static int emu_cur, emu_n;
static ucontext_t emu_sched;
static jmp_buf emu_sched_jb;
static unsigned emu_x[32][32];
static uint64_t emu_rng = 0x853c49e6748fea9bULL;

#define threadIdx (emu_t[emu_cur].tid)
#define blockIdx emu_block
#define blockDim emu_bdim
#define gridDim emu_gdim
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

// Fibers switch with _setjmp/_longjmp (no signal-mask syscalls); each is
// entered once with swapcontext and then loops over blocks and launches.
static void emu_yield(int st) {
	emu_t[emu_cur].state = st;
	if (!_setjmp(emu_t[emu_cur].jb)) _longjmp(emu_sched_jb, 1);
}
static void __syncthreads() { emu_yield(BLOCK_BAR); }
static float __shfl_down_sync(unsigned, float v, int o) {
	int lane = emu_cur & 31, w = emu_cur >> 5;
	memcpy(&emu_x[w][lane], &v, 4);
	emu_yield(WARP_BAR);
	float r = v;
	if (lane + o < 32) memcpy(&r, &emu_x[w][lane + o], 4);
	emu_yield(WARP_BAR);
	return r;
}
static unsigned __ballot_sync(unsigned, int pred) {
	int lane = emu_cur & 31, w = emu_cur >> 5;
	emu_x[w][lane] = pred != 0;
	emu_yield(WARP_BAR);
	unsigned m = 0;
	for (int l = 0; l < 32; l++) if (emu_x[w][l]) m |= 1u << l;
	emu_yield(WARP_BAR);
	return m;
}
static int __popc(unsigned x) { return __builtin_popcount(x); }
static unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
static float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static unsigned atomicAdd(unsigned* p, unsigned v) { unsigned o = *p; *p = o + v; return o; }

KERNEL_SOURCE

static void (*emu_fn)(void**);
static void** emu_params;
static void emu_entry() {
	for (;;) {
		emu_fn(emu_params);
		emu_yield(DONE);
	}
}

template <typename... A, size_t... I>
static void emu_invoke(void (*f)(A...), void** p, std::index_sequence<I...>) {
	f(*(typename std::remove_reference<A>::type*)p[I]...);
}
template <typename... A>
static void emu_call(void (*f)(A...), void** p) { emu_invoke(f, p, std::index_sequence_for<A...>{}); }

struct emu_kernel { const char* name; void (*call)(void**); };
static emu_kernel emu_kernels[] = {
KERNEL_TABLE
};

// Runs one block to completion; returns an error message or NULL.
static const char* emu_run_block() {
	for (int i = 0; i < emu_n; i++) {
		emu_thread& t = emu_t[i];
		if (!t.stack) {
			t.stack = (char*)malloc(1 << 16);
			getcontext(&t.ctx);
			t.ctx.uc_stack.ss_sp = t.stack;
			t.ctx.uc_stack.ss_size = 1 << 16;
			t.ctx.uc_link = NULL;
			makecontext(&t.ctx, emu_entry, 0);
		}
		t.tid = emu_dim3{(unsigned)i, 0, 0};
		t.state = RUN;
	}
	for (;;) {
		// Run the runnable threads in a varying order (rotated start,
		// alternating direction), as a GPU promises no order between
		// barriers: a missing __syncthreads then shows up as a mismatch.
		emu_rng = emu_rng * 6364136223846793005ULL + 1442695040888963407ULL;
		int start = (int)((emu_rng >> 33) % (uint64_t)emu_n), dir = (emu_rng >> 62) & 1 ? 1 : -1;
		for (int j = 0; j < emu_n; j++) {
			int i = ((start + dir * j) % emu_n + emu_n) % emu_n;
			if (emu_t[i].state != RUN) continue;
			emu_cur = i;
			if (!_setjmp(emu_sched_jb)) {
				if (!emu_t[i].started) {
					emu_t[i].started = true;
					swapcontext(&emu_sched, &emu_t[i].ctx);
				} else {
					_longjmp(emu_t[i].jb, 1);
				}
			}
		}
		bool released = false;
		int done = 0, atBlock = 0;
		for (int w = 0; w * 32 < emu_n; w++) {
			int wait = 0, fin = 0;
			for (int l = w * 32; l < w * 32 + 32; l++) {
				if (emu_t[l].state == WARP_BAR) wait++;
				if (emu_t[l].state == DONE) fin++;
			}
			if (wait == 32) {
				for (int l = w * 32; l < w * 32 + 32; l++) emu_t[l].state = RUN;
				released = true;
			} else if (wait > 0) {
				return "divergent warp: part of a warp waits at a shuffle/ballot";
			}
		}
		if (released) continue;
		for (int i = 0; i < emu_n; i++) {
			if (emu_t[i].state == DONE) done++;
			if (emu_t[i].state == BLOCK_BAR) atBlock++;
		}
		if (done == emu_n) return NULL;
		if (atBlock == emu_n) {
			for (int i = 0; i < emu_n; i++) emu_t[i].state = RUN;
			continue;
		}
		return "divergent __syncthreads: some threads exited or wait elsewhere";
	}
}

static void rd(void* p, size_t n) { if (fread(p, 1, n, stdin) != n) exit(0); }
static uint64_t rd64() { uint64_t v; rd(&v, 8); return v; }
static uint32_t rd32() { uint32_t v; rd(&v, 4); return v; }
static void reply(const char* err) {
	uint32_t n = err ? strlen(err) : 0;
	fwrite(&n, 4, 1, stdout);
	if (n) fwrite(err, 1, n, stdout);
	fflush(stdout);
}

// Reference SGEMM with float64 accumulation; op(A) rows and op(B) columns
// are packed contiguous first so the dot products stream through memory.
static void sgemm(int ta, int tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
		float beta, float* c, int ldc) {
	static std::vector<float> pa, pb;
	pa.resize((size_t)m * k); pb.resize((size_t)n * k);
	for (int i = 0; i < m; i++)
		for (int l = 0; l < k; l++) pa[(size_t)i * k + l] = ta ? a[l + (long)i * lda] : a[i + (long)l * lda];
	for (int j = 0; j < n; j++)
		for (int l = 0; l < k; l++) pb[(size_t)j * k + l] = tb ? b[j + (long)l * ldb] : b[l + (long)j * ldb];
	for (int j = 0; j < n; j++) {
		const float* bj = &pb[(size_t)j * k];
		for (int i = 0; i < m; i++) {
			const float* ai = &pa[(size_t)i * k];
			double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
			int l = 0;
			for (; l + 4 <= k; l += 4) {
				s0 += (double)ai[l] * bj[l]; s1 += (double)ai[l + 1] * bj[l + 1];
				s2 += (double)ai[l + 2] * bj[l + 2]; s3 += (double)ai[l + 3] * bj[l + 3];
			}
			for (; l < k; l++) s0 += (double)ai[l] * bj[l];
			double s = (s0 + s1) + (s2 + s3);
			c[i + (long)j * ldc] = alpha * (float)s + (beta == 0 ? 0 : beta * c[i + (long)j * ldc]);
		}
	}
}

int main() {
	for (;;) {
		int op = getchar();
		if (op == EOF || op == 'Q') return 0;
		switch (op) {
		case 'A': { uint64_t n = rd64(); void* p = calloc(1, n); uint64_t a = (uint64_t)p; fwrite(&a, 8, 1, stdout); fflush(stdout); break; }
		case 'F': { free((void*)rd64()); reply(NULL); break; }
		case 'W': { char* p = (char*)rd64(); uint64_t n = rd64(); rd(p, n); reply(NULL); break; }
		case 'R': { char* p = (char*)rd64(); uint64_t n = rd64(); fwrite(p, 1, n, stdout); fflush(stdout); break; }
		case 'C': { char* d = (char*)rd64(); char* s = (char*)rd64(); uint64_t n = rd64(); memmove(d, s, n); reply(NULL); break; }
		case 'L': {
			uint32_t nl = rd32(); std::string name(nl, 0); rd(&name[0], nl);
			uint32_t g[3], b[3]; for (int i = 0; i < 3; i++) g[i] = rd32(); for (int i = 0; i < 3; i++) b[i] = rd32();
			uint32_t na = rd32(), nb = rd32();
			static char buf[4096]; static uint32_t offs[64]; static void* params[64];
			rd(buf, nb); for (uint32_t i = 0; i < na; i++) offs[i] = rd32();
			for (uint32_t i = 0; i < na; i++) params[i] = buf + offs[i];
			emu_fn = NULL;
			for (auto& k : emu_kernels) if (name == k.name) emu_fn = k.call;
			if (!emu_fn) { reply("no such kernel"); break; }
			if (g[1] != 1 || g[2] != 1 || b[1] != 1 || b[2] != 1 || b[0] % 32 || b[0] > 1024) { reply("emulator: 1-D launches, blocks of 32k <= 1024 threads only"); break; }
			// Every kernel is correct for any grid size (grid-stride or
			// block-stride loops), so the emulator runs at most 16 blocks:
			// each fiber then does more of the work instead of thousands
			// of fibers starting for one element each.
			if (g[0] > 16) g[0] = 16;
			emu_params = params; emu_n = b[0];
			emu_bdim = emu_dim3{b[0], 1, 1}; emu_gdim = emu_dim3{g[0], 1, 1};
			const char* err = NULL;
			// Blocks in a varying order too (a stride coprime with the grid).
			uint32_t stride = 1;
			if (g[0] > 1) {
				emu_rng = emu_rng * 6364136223846793005ULL + 1442695040888963407ULL;
				stride = 1 + (uint32_t)((emu_rng >> 33) % g[0]);
				while (std::gcd(stride, g[0]) != 1) stride++;
			}
			for (uint32_t j = 0, bx = 0; j < g[0] && !err; j++, bx = (bx + stride) % g[0]) { emu_block = emu_dim3{bx, 0, 0}; err = emu_run_block(); }
			reply(err);
			break;
		}
		case 'G': {
			int ta = rd32(), tb = rd32(), m = rd32(), n = rd32(), k = rd32(); float alpha, beta; rd(&alpha, 4);
			float* a = (float*)rd64(); int lda = rd32(); int64_t sa = rd64();
			float* b = (float*)rd64(); int ldb = rd32(); int64_t sb = rd64(); rd(&beta, 4);
			float* c = (float*)rd64(); int ldc = rd32(); int64_t sc = rd64(); int batch = rd32();
			for (int i = 0; i < batch; i++) sgemm(ta, tb, m, n, k, alpha, a + i * sa, lda, b + i * sb, ldb, beta, c + i * sc, ldc);
			reply(NULL);
			break;
		}
		default: fprintf(stderr, "emulator: bad op %d\n", op); return 1;
		}
	}
}
`

// emuSource is the emulator program for the current kernel source.
func emuSource() string {
	src, err := KernelSource(BlockSize)
	if err != nil {
		panic(err)
	}
	var table strings.Builder
	for _, k := range KernelNames() {
		fmt.Fprintf(&table, "\t{%q, [](void** p) { emu_call(%s, p); }},\n", k, k)
	}
	s := strings.Replace(emuHarness, "KERNEL_SOURCE", src, 1)
	return strings.Replace(s, "KERNEL_TABLE", table.String(), 1)
}

var (
	emuBuildOnce sync.Once
	emuBinary    string
	emuBuildErr  error
)

// buildEmulator compiles the emulator once per source version (cached in
// the temp directory).
func buildEmulator() (string, error) {
	emuBuildOnce.Do(func() {
		cxx, err := exec.LookPath("clang++")
		if err != nil {
			emuBuildErr = fmt.Errorf("clang++ not found (apt-get install clang): %w", err)
			return
		}
		src := emuSource()
		sum := sha256.Sum256([]byte(src))
		dir := filepath.Join(os.TempDir(), "plastic-cuda-emu")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			emuBuildErr = err
			return
		}
		bin := filepath.Join(dir, "emu-"+hex.EncodeToString(sum[:8]))
		if _, err := os.Stat(bin); err == nil {
			emuBinary = bin
			return
		}
		cpp := bin + ".cpp"
		if err := os.WriteFile(cpp, []byte(src), 0o644); err != nil {
			emuBuildErr = err
			return
		}
		tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
		out, err := exec.Command(cxx, "-std=c++17", "-O2", "-w", "-o", tmp, cpp).CombinedOutput()
		if err != nil {
			emuBuildErr = fmt.Errorf("compiling the emulator: %v\n%s", err, out)
			return
		}
		if err := os.Rename(tmp, bin); err != nil {
			emuBuildErr = err
			return
		}
		emuBinary = bin
	})
	return emuBinary, emuBuildErr
}

type emuBackend struct {
	cmd *exec.Cmd
	w   *bufio.Writer
	r   *bufio.Reader
}

// OpenEmulator compiles the emulator (once per kernel source, cached in
// the temp directory; needs clang++) and starts it behind a Context.
func OpenEmulator() (*Context, error) {
	bin, err := buildEmulator()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &emuBackend{cmd: cmd, w: bufio.NewWriter(in), r: bufio.NewReader(out)}
	return newContext(b, DeviceInfo{Name: "SIMT emulator (clang++)", Major: 0, TotalMem: 1 << 30}), nil
}

func (b *emuBackend) put(vals ...any) {
	for _, v := range vals {
		switch v := v.(type) {
		case byte:
			b.w.WriteByte(v)
		case []byte:
			b.w.Write(v)
		default:
			binary.Write(b.w, binary.LittleEndian, v)
		}
	}
}

func (b *emuBackend) status(call string) error {
	if err := b.w.Flush(); err != nil {
		return fmt.Errorf("emulator %s: %w", call, err)
	}
	var n uint32
	if err := binary.Read(b.r, binary.LittleEndian, &n); err != nil {
		return fmt.Errorf("emulator %s: %w", call, err)
	}
	if n == 0 {
		return nil
	}
	msg := make([]byte, n)
	io.ReadFull(b.r, msg)
	return fmt.Errorf("emulator %s: %s", call, msg)
}

func (b *emuBackend) alloc(n int64) (DevPtr, error) {
	b.put(byte('A'), uint64(n))
	if err := b.w.Flush(); err != nil {
		return 0, err
	}
	var p uint64
	if err := binary.Read(b.r, binary.LittleEndian, &p); err != nil {
		return 0, err
	}
	if p == 0 {
		return 0, errorf("emulator: out of memory")
	}
	return DevPtr(p), nil
}

func (b *emuBackend) free(p DevPtr) error {
	b.put(byte('F'), uint64(p))
	return b.status("free")
}

func (b *emuBackend) htod(dst DevPtr, src []byte) error {
	b.put(byte('W'), uint64(dst), uint64(len(src)), src)
	return b.status("htod")
}

func (b *emuBackend) dtoh(dst []byte, src DevPtr) error {
	b.put(byte('R'), uint64(src), uint64(len(dst)))
	if err := b.w.Flush(); err != nil {
		return err
	}
	_, err := io.ReadFull(b.r, dst)
	return err
}

func (b *emuBackend) dtod(dst, src DevPtr, n int64) error {
	b.put(byte('C'), uint64(dst), uint64(src), uint64(n))
	return b.status("dtod")
}

func (b *emuBackend) zero(dst DevPtr, words int64) error {
	return b.htod(dst, make([]byte, 4*words))
}

func (b *emuBackend) launch(kernel string, l Launch, args []byte, offsets []int) error {
	b.put(byte('L'), uint32(len(kernel)), []byte(kernel), l.Grid, l.Block, uint32(len(offsets)), uint32(len(args)), args)
	for _, o := range offsets {
		b.put(uint32(o))
	}
	return b.status(kernel)
}

func (b *emuBackend) gemm(c GemmCall, alpha float32, first, second DevPtr, beta float32, out DevPtr) error {
	bi := func(t bool) uint32 {
		if t {
			return 1
		}
		return 0
	}
	batch := max(c.Batch, 1)
	b.put(byte('G'), bi(c.TransA), bi(c.TransB), uint32(c.M), uint32(c.N), uint32(c.K), math.Float32bits(alpha),
		uint64(first), uint32(c.LdA), c.StrideA, uint64(second), uint32(c.LdB), c.StrideB, math.Float32bits(beta),
		uint64(out), uint32(c.LdC), c.StrideC, uint32(batch))
	return b.status("gemm")
}

func (b *emuBackend) sync() error { return nil }

func (b *emuBackend) timer() (func() (float64, error), error) {
	start := time.Now()
	return func() (float64, error) { return float64(time.Since(start).Microseconds()) / 1e3, nil }, nil
}

func (b *emuBackend) close() error {
	b.put(byte('Q'))
	b.w.Flush()
	return b.cmd.Wait()
}
