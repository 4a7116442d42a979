// SPDX-License-Identifier: LGPL-2.1-or-later
// Stress: 10,000 concurrent requests over 100 fds and over 1 fd,
// cancellation racing completion, signals during aio_suspend.
#include <pthread.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>

#include "helpers.hpp"

using namespace t;

namespace {
constexpr int kReq = 10000;
constexpr int kBlk = 512;

void wait_all(std::vector<aiocb>& cbs) {
  std::vector<const aiocb*> l(cbs.size());
  for (size_t i = 0; i < cbs.size(); i++) l[i] = &cbs[i];
  size_t first = 0;
  while (first < cbs.size()) {
    if (aio_error(&cbs[first]) != EINPROGRESS) {
      first++;
      continue;
    }
    timespec ts{1, 0};
    aio_suspend(&l[first], static_cast<int>(std::min<size_t>(64, l.size() - first)), &ts);
  }
}
}  // namespace

TEST_CASE("stress: 10,000 concurrent reads over 100 fds", "[stress]") {
  std::vector<std::unique_ptr<TempFile>> files;
  for (int i = 0; i < 100; i++) files.push_back(std::make_unique<TempFile>(100 * kBlk));
  std::vector<aiocb> cbs(kReq);
  std::vector<unsigned char> bufs(static_cast<size_t>(kReq) * kBlk);
  for (int i = 0; i < kReq; i++) {
    int fi = i % 100, blk = i / 100;
    cbs[i] = make_cb(files[fi]->fd, &bufs[static_cast<size_t>(i) * kBlk], kBlk, static_cast<off_t>(blk) * kBlk);
    REQUIRE(aio_read(&cbs[i]) == 0);
  }
  wait_all(cbs);
  int bad = 0;
  for (int i = 0; i < kReq; i++) {
    if (aio_error(&cbs[i]) != 0 || aio_return(&cbs[i]) != kBlk) { bad++; continue; }
    size_t off = static_cast<size_t>(i / 100) * kBlk;
    for (int j = 0; j < kBlk; j += 97)
      if (bufs[static_cast<size_t>(i) * kBlk + j] != pattern(off + j)) { bad++; break; }
  }
  CHECK(bad == 0);
}

TEST_CASE("stress: 10,000 concurrent writes then reads on 1 fd (lio_listio batches)", "[stress]") {
  TempFile f(0);
  std::vector<aiocb> cbs(kReq);
  std::vector<unsigned char> bufs(static_cast<size_t>(kReq) * 64);
  for (int i = 0; i < kReq; i++) {
    memset(&bufs[static_cast<size_t>(i) * 64], i & 0xff, 64);
    cbs[i] = make_cb(f.fd, &bufs[static_cast<size_t>(i) * 64], 64, static_cast<off_t>(i) * 64);
    cbs[i].aio_lio_opcode = LIO_WRITE;
  }
  std::vector<aiocb*> l(kReq);
  for (int i = 0; i < kReq; i++) l[i] = &cbs[i];
  for (int i = 0; i < kReq; i += 1000) REQUIRE(lio_listio(LIO_NOWAIT, &l[i], 1000, nullptr) == 0);
  wait_all(cbs);
  for (int i = 0; i < kReq; i++) {
    REQUIRE(aio_error(&cbs[i]) == 0);
    REQUIRE(aio_return(&cbs[i]) == 64);
  }
  std::fill(bufs.begin(), bufs.end(), 0xEE);
  for (int i = 0; i < kReq; i++) {
    cbs[i].aio_lio_opcode = LIO_READ;
    REQUIRE(aio_read(&cbs[i]) == 0);
  }
  wait_all(cbs);
  int bad = 0;
  for (int i = 0; i < kReq; i++) {
    if (aio_error(&cbs[i]) != 0 || aio_return(&cbs[i]) != 64) bad++;
    else if (bufs[static_cast<size_t>(i) * 64 + 63] != (i & 0xff)) bad++;
  }
  CHECK(bad == 0);
}

TEST_CASE("stress: cancellation racing completion, exactly one notification each", "[stress]") {
  static std::atomic<int> notes{0};
  notes = 0;
  TempFile f(64 * 1024);
  constexpr int N = 3000;
  std::vector<aiocb> cbs(N);
  std::vector<char> bufs(static_cast<size_t>(N) * 16);
  int canceled = 0, alldone = 0, notcanceled = 0;
  for (int i = 0; i < N; i++) {
    cbs[i] = make_cb(f.fd, &bufs[static_cast<size_t>(i) * 16], 16, (i * 16) % (64 * 1024));
    cbs[i].aio_sigevent.sigev_notify = SIGEV_THREAD;
    cbs[i].aio_sigevent.sigev_notify_function = [](sigval) { notes++; };
    REQUIRE(aio_read(&cbs[i]) == 0);
    int r = (i % 10 == 0) ? aio_cancel(f.fd, nullptr) : aio_cancel(f.fd, &cbs[i]);
    if (r == AIO_CANCELED) canceled++;
    else if (r == AIO_ALLDONE) alldone++;
    else if (r == AIO_NOTCANCELED) notcanceled++;
    else FAIL("aio_cancel returned " << r << " errno " << errno);
  }
  wait_all(cbs);
  int ecanceled = 0, ok = 0;
  for (int i = 0; i < N; i++) {
    int e = aio_error(&cbs[i]);
    ssize_t r = aio_return(&cbs[i]);
    if (e == ECANCELED) { ecanceled++; CHECK(r == -1); }
    else { CHECK(e == 0); CHECK(r == 16); ok++; }
  }
  CHECK(ecanceled + ok == N);
  CHECK(ecanceled >= canceled);  // cancel-all of later calls may cancel more
  for (int i = 0; i < 2000 && notes < N; i++) sleep_ms(5);
  CHECK(notes == N);
  INFO("canceled " << canceled << " alldone " << alldone << " notcanceled " << notcanceled);
  CHECK(canceled + alldone + notcanceled == N);
}

static std::atomic<int> g_sigs{0};
static void count_sig(int) { g_sigs++; }

TEST_CASE("stress: signals arriving during aio_suspend", "[stress]") {
  struct sigaction sa {};
  sa.sa_handler = count_sig;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGUSR1, &sa, nullptr) == 0);
  TempFile f(1 << 20);
  std::atomic<bool> stop{false};
  pthread_t self = pthread_self();
  std::thread pest([&] {
    while (!stop) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  int eintr = 0, zero = 0;
  for (int round = 0; round < 300; round++) {
    Pipe p;
    char c;
    aiocb cb = make_cb(p.r, &c, 1, 0);
    REQUIRE(aio_read(&cb) == 0);
    const aiocb* l[1] = {&cb};
    bool written = round % 3 == 0;
    if (written) REQUIRE(write(p.w, "x", 1) == 1);
    for (;;) {
      timespec ts{0, 2 * 1000 * 1000};
      int r = aio_suspend(l, 1, &ts);
      if (r == 0) { zero++; break; }
      REQUIRE(r == -1);
      REQUIRE((errno == EINTR || errno == EAGAIN));
      if (errno == EINTR) eintr++;
      if (!written) {
        written = true;
        REQUIRE(write(p.w, "x", 1) == 1);
      }
    }
    CHECK(aio_error(&cb) == 0);
    CHECK(aio_return(&cb) == 1);
  }
  stop = true;
  pest.join();
  CHECK(zero == 300);
  CHECK(eintr > 0);
  CHECK(g_sigs > 0);
}
