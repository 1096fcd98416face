// The model's string pool (model/string_pool.h), fed strings that its cache's keys (the first
// and last 8 bytes and the length) cannot tell apart by themselves.
#include "model/string_pool.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

namespace refctrace::model {
namespace {

// Interns every string, then all of them again twice: each keeps its first reference,
// distinct strings get distinct ones, and Get gives each string back.
void CheckPoolKeepsApart(const std::vector<std::string>& strings) {
  StringPool pool;
  std::map<std::string, StrRef> ref_of;
  std::map<StrRef, std::string> string_of;
  for (const std::string& s : strings) {
    const StrRef ref = pool.Intern(s);
    ref_of.emplace(s, ref);
    string_of.emplace(ref, s);
  }
  CHECK(string_of.size() == ref_of.size());  // no two strings share a reference
  for (size_t round = 0; round < 2; ++round) {
    for (const std::string& s : strings) {
      CAPTURE(s);
      const StrRef ref = pool.Intern(s);
      CHECK(ref == ref_of[s]);
      CHECK(pool.Get(ref) == s);
    }
  }
}

TEST_CASE("the empty string is reference 0") {
  StringPool pool;
  CHECK(pool.Intern("") == 0);
  CHECK(pool.Get(0).empty());
  CHECK(pool.Intern("a") != 0);
}

TEST_CASE("strings shorter than a word that differ only by a leading NUL or their length") {
  CheckPoolKeepsApart({"a", std::string("\0a", 2), std::string("\0\0a", 3), "ab", "b"});
}

TEST_CASE("strings of 9 to 16 bytes that differ only where their first and last words overlap") {
  // 9 bytes: bytes 1..7 are in both words; 16 bytes: the words meet.
  CheckPoolKeepsApart({"<0.101.0>", "<0.1X1.0>", "bench_drv.c:237", "bench_drv.c:238",
                       "0123456789abcdef", "0123456789abcdeF", "01234567"});
}

TEST_CASE("strings longer than 16 bytes with the same first and last 8 bytes and length") {
  CheckPoolKeepsApart({"c_src/decoder.c:123:decode", "c_src/decoder.X:123:decode",
                       "c_src/decoder.c:12Y:decode", std::string(40, 'x'),
                       std::string(20, 'x') + "y" + std::string(19, 'x')});
}

// Within a family the cache's words are the same and only the length differs (the length is
// also in the slot's hash, which puts each member in another slot).
TEST_CASE("strings of one repeated byte, and one byte after NULs: same words, other lengths") {
  std::vector<std::string> strings;
  for (int c = 1; c < 256; ++c) {
    for (size_t n = 8; n <= 16; ++n)
      strings.push_back(std::string(n, static_cast<char>(c)));
    for (size_t nuls = 0; nuls < 7; ++nuls)
      strings.push_back(std::string(nuls, '\0') + static_cast<char>(c));
  }
  CheckPoolKeepsApart(strings);
}

// Past 16 bytes the cache compares the pooled text: only the length keeps that compare inside
// a shorter pooled string (an overread the sanitizer build reports).
TEST_CASE("strings longer than 16 bytes with the same first and last 8 bytes, of every length") {
  std::vector<std::string> strings;
  for (size_t middle = 1; middle <= 2000; ++middle)
    strings.push_back("ABCDEFGH" + std::string(middle, 'x') + "ABCDEFGH");
  CheckPoolKeepsApart(strings);
}

TEST_CASE("many strings that share cache slots come back as themselves") {
  std::vector<std::string> strings;
  for (int i = 0; i < 5000; ++i)
    strings.push_back("drv.c:" + std::to_string(i));
  CheckPoolKeepsApart(strings);
}

}  // namespace
}  // namespace refctrace::model
