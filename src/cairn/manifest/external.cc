#include "cairn/manifest/external.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "cairn/common/base64.h"
#include "cairn/common/text.h"

namespace cairn::manifest {
namespace {

constexpr std::string_view kS3Scheme = "s3://";
constexpr std::string_view kSwiftScheme = "swift://";
constexpr std::string_view kVersionIdParam = "versionId=";
constexpr std::string_view kEtagParam = "etag=";

// RFC 3986 §2.3 unreserved characters; a key also keeps its '/' so that URLs stay readable.
bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

enum class Component { kKey, kQueryValue };

bool KeepsRaw(unsigned char c, Component component) {
  return IsUnreserved(c) || (component == Component::kKey && c == '/');
}

void AppendPercentEncoded(std::string_view s, Component component, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";  // RFC 3986 §2.1: uppercase is canonical
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (KeepsRaw(c, component)) {
      out->push_back(ch);
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    }
  }
}

int UpperHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the one canonical encoding AppendPercentEncoded writes: escapes in uppercase hex, and
// only for bytes that need one. Anything else is an error naming `what` and the offset, so that
// two different +B texts can never name the same object.
Result<std::string> PercentDecode(std::string_view s, Component component, std::string_view url,
                                  std::string_view what) {
  auto error = [&](const std::string& why) {
    return InvalidArgumentError("external URL " + QuoteForMessage(url) + ": " + std::string(what) +
                                " " + why);
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '%') {
      if (i + 2 >= s.size()) {
        return error("has a truncated escape at offset " + std::to_string(i));
      }
      int hi = UpperHexValue(s[i + 1]);
      int lo = UpperHexValue(s[i + 2]);
      if (hi < 0 || lo < 0) {
        return error("has escape " + QuoteForMessage(s.substr(i, 3)) + " at offset " +
                     std::to_string(i) + " that is not % and two uppercase hex digits");
      }
      auto byte = static_cast<unsigned char>(hi * 16 + lo);
      if (KeepsRaw(byte, component)) {
        return error("has needless escape " + QuoteForMessage(s.substr(i, 3)) + " at offset " +
                     std::to_string(i) + " (write the character itself)");
      }
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else if (KeepsRaw(c, component)) {
      out.push_back(static_cast<char>(c));
    } else if (c == '&' && component == Component::kQueryValue) {
      return error("is followed by '&': give exactly one of versionId and etag");
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", c);
      return error("has byte " + std::string(buf) + " at offset " + std::to_string(i) +
                   " that must be percent-encoded");
    }
  }
  return out;
}

std::string ToDecimal(uint64_t v) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 20 digits always suffice for a uint64_t.
  return std::string(buf, end);
}

// The +B text and +C offset of an external locator whose hash has been checked.
struct ExternalParts {
  std::string_view b64;
  uint64_t offset;
};

Result<ExternalParts> CheckExternal(const Locator& locator) {
  auto error = [&](std::string_view why) {
    return InvalidArgumentError("external locator " + QuoteForMessage(locator.ToString()) + ": " +
                                std::string(why));
  };
  const std::string* b = nullptr;
  const std::string* c = nullptr;
  for (const std::string& h : locator.hints()) {
    if (h[0] == 'B') {
      if (b != nullptr) return error("more than one +B hint");
      b = &h;
    } else if (h[0] == 'C') {
      if (c != nullptr) return error("more than one +C hint");
      c = &h;
    }
  }
  if (b == nullptr) return error("no +B hint (not an external locator)");
  if (c == nullptr) return error("no +C hint (the offset in the object)");
  ExternalParts parts{std::string_view(*b).substr(1), 0};
  // Parse and AddHint checked the form of +C: canonical decimal.
  auto [end, ec] = std::from_chars(c->data() + 1, c->data() + c->size(), parts.offset);
  if (ec != std::errc() || end != c->data() + c->size()) return error("malformed +C hint");
  if (parts.offset > std::numeric_limits<uint64_t>::max() - locator.size()) {
    return error("offset + size is past 2^64");
  }
  BlockHash derived = DeriveExternalHash(locator.size(), parts.b64, parts.offset);
  if (derived != locator.hash()) {
    return error("hash does not match its +B/+C hints (derived hash is " +
                 std::string(derived.hex()) + ")");
  }
  return parts;
}

// Appends `hint` (taken from a Locator, so already well formed) to `locator`.
void AddCheckedHint(Locator* locator, std::string_view hint) {
  Status status = locator->AddHint(hint);
  assert(status.ok() && "hint from a Locator failed to validate");
  status.IgnoreError();
}

// A locator for bytes [offset, offset+size) of the object in `b64`, with the hints of `model`
// minus +A (a signature over another hash) and +C replaced by `offset`.
Locator Rebuild(const Locator& model, std::string_view b64, uint64_t offset, uint64_t size) {
  Locator out(DeriveExternalHash(size, b64, offset), size);
  for (const std::string& h : model.hints()) {
    // Signatures (+A, +R) sign the old hash: they cannot carry over to a new one.
    if (h[0] == 'A' || h[0] == 'R') continue;
    if (h[0] == 'C') {
      AddCheckedHint(&out, "C" + ToDecimal(offset));
    } else {
      AddCheckedHint(&out, h);
    }
  }
  return out;
}

}  // namespace

// ---- ExternalObject -----------------------------------------------------------------------------

Status ExternalObject::Validate() const {
  if (bucket.empty()) return InvalidArgumentError("external object: empty bucket");
  if (bucket.find_first_of("/?") != std::string::npos) {
    return InvalidArgumentError("external object: bucket " + QuoteForMessage(bucket) +
                                " contains '/' or '?'");
  }
  if (key.empty()) return InvalidArgumentError("external object: empty key");
  if (version_id.empty() == etag.empty()) {
    return InvalidArgumentError(
        "external object " + QuoteForMessage(bucket + "/" + key) +
        ": give exactly one of version_id and etag (an external object must be pinned)");
  }
  return Status();
}

std::string ExternalObject::ToUrl() const {
  std::string url(kind == ObjectStoreKind::kS3 ? kS3Scheme : kSwiftScheme);
  url.reserve(url.size() + bucket.size() + key.size() * 3 / 2 + 16 + version_id.size() +
              etag.size());
  url.append(bucket);
  url.push_back('/');
  AppendPercentEncoded(key, Component::kKey, &url);
  url.push_back('?');
  if (!version_id.empty()) {
    url.append(kVersionIdParam);
    AppendPercentEncoded(version_id, Component::kQueryValue, &url);
  } else {
    url.append(kEtagParam);
    AppendPercentEncoded(etag, Component::kQueryValue, &url);
  }
  return url;
}

Result<ExternalObject> ExternalObject::ParseUrl(std::string_view url) {
  auto error = [&](std::string_view why) {
    return InvalidArgumentError("external URL " + QuoteForMessage(url) + ": " + std::string(why));
  };
  ExternalObject object;
  std::string_view rest = url;
  if (rest.starts_with(kS3Scheme)) {
    object.kind = ObjectStoreKind::kS3;
    rest.remove_prefix(kS3Scheme.size());
  } else if (rest.starts_with(kSwiftScheme)) {
    object.kind = ObjectStoreKind::kSwift;
    rest.remove_prefix(kSwiftScheme.size());
  } else {
    return error("scheme must be s3:// or swift://");
  }

  size_t slash = rest.find('/');
  std::string_view bucket = rest.substr(0, slash);
  if (size_t q = bucket.find('?'); q != std::string_view::npos) {
    return error("bucket " + QuoteForMessage(bucket.substr(0, q)) + " is not followed by /<key>");
  }
  if (bucket.empty()) return error("empty bucket");
  if (slash == std::string_view::npos) return error("missing /<key> after the bucket");
  object.bucket = std::string(bucket);
  rest.remove_prefix(slash + 1);

  size_t question = rest.find('?');
  std::string_view key = rest.substr(0, question);
  if (key.empty()) return error("empty key");
  if (question == std::string_view::npos) {
    return error("missing ?versionId=<v> or ?etag=<e> (an external object must be pinned)");
  }
  CAIRN_ASSIGN_OR_RETURN(object.key, PercentDecode(key, Component::kKey, url, "key"));

  std::string_view query = rest.substr(question + 1);
  std::string* target = nullptr;
  std::string_view name;
  if (query.starts_with(kVersionIdParam)) {
    target = &object.version_id;
    name = "versionId";
    query.remove_prefix(kVersionIdParam.size());
  } else if (query.starts_with(kEtagParam)) {
    target = &object.etag;
    name = "etag";
    query.remove_prefix(kEtagParam.size());
  } else {
    return error("query must be versionId=<v> or etag=<e>");
  }
  if (query.empty()) return error("empty " + std::string(name));
  CAIRN_ASSIGN_OR_RETURN(*target, PercentDecode(query, Component::kQueryValue, url, name));
  return object;
}

// ---- locators -----------------------------------------------------------------------------------

BlockHash DeriveExternalHash(uint64_t size, std::string_view b64url, uint64_t offset) {
  std::string text = ToDecimal(size);
  text.reserve(text.size() + b64url.size() + 24);
  text.append("+B");
  text.append(b64url);
  text.append("+C");
  text.append(ToDecimal(offset));
  return BlockHash::Of(text);
}

Locator MakeExternalLocator(const ExternalObject& object, uint64_t offset, uint64_t size) {
  assert(object.Validate().ok());
  std::string b64 = Base64UrlEncode(object.ToUrl());
  Locator locator(DeriveExternalHash(size, b64, offset), size);
  AddCheckedHint(&locator, "B" + b64);
  AddCheckedHint(&locator, "C" + ToDecimal(offset));
  return locator;
}

Result<ExternalRange> DecodeExternal(const Locator& locator) {
  CAIRN_ASSIGN_OR_RETURN(ExternalParts parts, CheckExternal(locator));
  CAIRN_ASSIGN_OR_RETURN(std::string url, Base64UrlDecode(parts.b64));
  CAIRN_ASSIGN_OR_RETURN(ExternalObject object, ExternalObject::ParseUrl(url));
  return ExternalRange{std::move(object), parts.offset, locator.size()};
}

std::vector<Locator> SplitExternal(const Locator& oversized, uint64_t chunk_size) {
  if (chunk_size == 0 || oversized.size() <= chunk_size) return {oversized};
  Result<ExternalParts> parts = CheckExternal(oversized);
  if (!parts.ok()) return {oversized};
  std::vector<Locator> chunks;
  chunks.reserve(oversized.size() / chunk_size + 1);
  for (uint64_t done = 0; done < oversized.size(); done += chunk_size) {
    uint64_t size = std::min(chunk_size, oversized.size() - done);
    chunks.push_back(Rebuild(oversized, parts->b64, parts->offset + done, size));
    // The last chunk can end at 2^64 exactly; stop before `done` wraps.
    if (oversized.size() - done <= chunk_size) break;
  }
  return chunks;
}

std::optional<Locator> MergeExternal(const Locator& a, const Locator& b) {
  Result<ExternalParts> pa = CheckExternal(a);
  Result<ExternalParts> pb = CheckExternal(b);
  if (!pa.ok() || !pb.ok() || pa->b64 != pb->b64) return std::nullopt;
  // CheckExternal ensured a's offset + size fits.
  if (pb->offset != pa->offset + a.size()) return std::nullopt;
  if (b.size() > std::numeric_limits<uint64_t>::max() - a.size()) return std::nullopt;
  auto other = [](const std::string& h) {
    return h[0] != 'A' && h[0] != 'R' && h[0] != 'B' && h[0] != 'C';
  };
  std::vector<std::string_view> others_a;
  std::vector<std::string_view> others_b;
  for (const std::string& h : a.hints()) {
    if (other(h)) others_a.push_back(h);
  }
  for (const std::string& h : b.hints()) {
    if (other(h)) others_b.push_back(h);
  }
  if (others_a != others_b) return std::nullopt;
  return Rebuild(a, pa->b64, pa->offset, a.size() + b.size());
}

}  // namespace cairn::manifest
