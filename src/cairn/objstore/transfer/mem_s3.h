// MemS3: an in-memory S3 server behind the HttpClient interface, a test double for the transfer
// engine (and anything else above S3Client). It speaks enough of the S3 REST API, path-style, for
// whole transfers: PutObject (Content-MD5 checked), HEAD and GET with Range and If-Match,
// DeleteObject, CopyObject, the multipart calls (UploadPart with Content-MD5, UploadPartCopy with
// a range, Complete with the md5-of-part-md5s-N ETag, Abort, ListParts, ListMultipartUploads),
// ListObjectsV2 (one page) and buckets made on first use. Wrap it in FaultInjectingHttpClient to
// test retries. Signatures are not checked (the signer has its own tests).
//
// Thread safety: Send and the test accessors may be called concurrently (one mutex; bodies are
// pulled and pushed outside it).
#ifndef CAIRN_OBJSTORE_TRANSFER_MEM_S3_H_
#define CAIRN_OBJSTORE_TRANSFER_MEM_S3_H_

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/common/base64.h"
#include "cairn/common/hash.h"
#include "cairn/http/http_client.h"

namespace cairn::objstore::transfer {

class MemS3 final : public http::HttpClient {
 public:
  struct Object {
    std::string data;
    std::string etag;  // without quotes
    std::string content_type;
    std::map<std::string, std::string> metadata;  // lowercase names without x-amz-meta-
  };

  // Called for every request before it is served; a status code (e.g. 403, 500) answers it with
  // that error instead. Runs under no lock.
  using Interceptor = std::function<std::optional<int>(const http::HttpRequest&)>;

  // Non-final parts below this fail Complete with EntityTooSmall (S3: 5 MiB).
  explicit MemS3(uint64_t min_part_size = 0) : min_part_size_(min_part_size) {}

  void set_interceptor(Interceptor interceptor) {
    std::lock_guard lock(mu_);
    interceptor_ = std::move(interceptor);
  }

  // `part_sizes`: of a multipart object, in order; what ?partNumber= answers with.
  void PutObjectDirect(const std::string& bucket, const std::string& key, Object object,
                       std::vector<uint64_t> part_sizes = {}) {
    std::lock_guard lock(mu_);
    objects_[{bucket, key}] = std::move(object);
    part_sizes_[{bucket, key}] = std::move(part_sizes);
  }
  std::optional<Object> GetObjectDirect(const std::string& bucket, const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = objects_.find({bucket, key});
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  // Whether HEAD and GET honour ?partNumber= as AWS does (206, that part's bytes,
  // x-amz-mp-parts-count); off by default: ignored, as Ceph RGW 16 does.
  void set_honour_part_number(bool honour) {
    std::lock_guard lock(mu_);
    honour_part_number_ = honour;
  }
  // The Unix seconds uploads are initiated at (default: the real clock), e.g. a FakeEnv's.
  void set_clock(std::function<int64_t()> clock) {
    std::lock_guard lock(mu_);
    clock_ = std::move(clock);
  }
  // Complete answers with this ETag instead of the real one (a store that assembled wrong parts).
  void set_complete_etag_override(std::string etag) {
    std::lock_guard lock(mu_);
    complete_etag_override_ = std::move(etag);
  }
  size_t uploads_in_progress() const {
    std::lock_guard lock(mu_);
    return uploads_.size();
  }
  int requests(const std::string& kind) const {
    std::lock_guard lock(mu_);
    auto it = counts_.find(kind);
    return it == counts_.end() ? 0 : it->second;
  }

  Result<http::HttpResponse> Send(const http::HttpRequest& request,
                                  const http::ResponseBody& response_body) override {
    Interceptor interceptor;
    {
      std::lock_guard lock(mu_);
      interceptor = interceptor_;
    }
    if (interceptor) {
      if (std::optional<int> code = interceptor(request)) {
        return Deliver(Error(*code, "Injected", "injected failure"), "", response_body, request);
      }
    }
    std::string body;
    if (request.body.is_bytes()) {
      body = std::string(request.body.bytes());
    } else if (request.body.is_stream()) {
      std::string buffer(64 << 10, '\0');
      for (;;) {
        CAIRN_ASSIGN_OR_RETURN(size_t n, request.body.source()(std::span<char>(buffer)));
        if (n == 0) break;
        body.append(buffer.data(), n);
      }
      if (request.body.length() >= 0 && body.size() != uint64_t(request.body.length())) {
        return FailedPreconditionError("the body source ended early");
      }
    }
    Parsed p = Parse(request);
    std::string payload;
    http::HttpResponse response = Serve(p, body, &payload);
    return Deliver(std::move(response), payload, response_body, request);
  }

 private:
  struct Parsed {
    std::string method;
    std::string bucket;
    std::string key;
    std::map<std::string, std::string> query;
    std::map<std::string, std::string> headers;  // lowercase names
  };
  struct Upload {
    std::string bucket;
    std::string key;
    std::string content_type;
    std::map<std::string, std::string> metadata;
    std::map<int, std::pair<std::string, std::string>> parts;  // number -> (data, etag)
    int64_t initiated = 0;                                     // Unix seconds
  };

  static std::string Decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  static std::string Quote(const std::string& etag) { return "\"" + etag + "\""; }
  static std::string IsoTime(int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return text;
  }
  static std::string Unquote(std::string s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
    return s;
  }

  static Parsed Parse(const http::HttpRequest& request) {
    Parsed p;
    p.method = request.method;
    std::string_view url = request.url;
    size_t scheme = url.find("://");
    url.remove_prefix(scheme == std::string_view::npos ? 0 : scheme + 3);
    size_t slash = url.find('/');
    url.remove_prefix(slash == std::string_view::npos ? url.size() : slash + 1);
    size_t q = url.find('?');
    std::string_view path = url.substr(0, q);
    if (q != std::string_view::npos) {
      std::string_view query = url.substr(q + 1);
      while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view item = query.substr(0, amp);
        size_t eq = item.find('=');
        p.query[Decode(item.substr(0, eq))] =
            eq == std::string_view::npos ? "" : Decode(item.substr(eq + 1));
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
      }
    }
    size_t bucket_end = path.find('/');
    p.bucket = Decode(path.substr(0, bucket_end));
    if (bucket_end != std::string_view::npos) p.key = Decode(path.substr(bucket_end + 1));
    for (const auto& [name, value] : request.headers) p.headers[Lower(name)] = value;
    return p;
  }

  static http::HttpResponse Error(int status, const std::string& code, const std::string& message) {
    http::HttpResponse r;
    r.status_code = status;
    r.body = "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>" + message +
             "</Message><RequestId>mem-1</RequestId></Error>";
    return r;
  }
  static http::HttpResponse Xml(const std::string& xml) {
    http::HttpResponse r;
    r.status_code = 200;
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + xml;
    return r;
  }

  // Returns the response; a 2xx GET's object bytes go to *payload (streamed by Deliver).
  http::HttpResponse Serve(const Parsed& p, const std::string& body, std::string* payload) {
    std::lock_guard lock(mu_);
    auto has = [&](const char* name) { return p.query.count(name) > 0; };
    auto header = [&](const char* name) -> std::optional<std::string> {
      auto it = p.headers.find(name);
      if (it == p.headers.end()) return std::nullopt;
      return it->second;
    };
    auto md5_ok = [&]() {
      std::optional<std::string> md5 = header("content-md5");
      if (!md5) return true;
      Md5Digest d = Md5Of(body);
      return *md5 == Base64Encode(std::string_view(reinterpret_cast<const char*>(d.data()), 16));
    };
    auto ok_empty = [](int status) {
      http::HttpResponse r;
      r.status_code = status;
      return r;
    };
    if (p.key.empty()) {
      if (p.method == "PUT" || p.method == "DELETE") return ok_empty(p.method == "PUT" ? 200 : 204);
      if (p.method == "GET" && has("uploads")) {
        ++counts_["list-uploads"];
        std::string prefix = p.query.count("prefix") ? p.query.at("prefix") : "";
        std::string xml = "<ListMultipartUploadsResult><Bucket>" + p.bucket +
                          "</Bucket><IsTruncated>false</IsTruncated>";
        for (const auto& [id, u] : uploads_) {
          if (u.bucket == p.bucket && u.key.starts_with(prefix)) {
            xml += "<Upload><Key>" + u.key + "</Key><UploadId>" + id + "</UploadId><Initiated>" +
                   IsoTime(u.initiated) + "</Initiated></Upload>";
          }
        }
        return Xml(xml + "</ListMultipartUploadsResult>");
      }
      if (p.method == "GET") {
        std::string prefix = p.query.count("prefix") ? p.query.at("prefix") : "";
        std::string xml =
            "<ListBucketResult><Name>" + p.bucket + "</Name><IsTruncated>false</IsTruncated>";
        for (const auto& [name, o] : objects_) {
          if (name.first == p.bucket && name.second.starts_with(prefix)) {
            xml += "<Contents><Key>" + name.second + "</Key><Size>" +
                   std::to_string(o.data.size()) + "</Size><ETag>" + Quote(o.etag) +
                   "</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>";
          }
        }
        return Xml(xml + "</ListBucketResult>");
      }
      return Error(405, "MethodNotAllowed", "");
    }
    const std::pair<std::string, std::string> name{p.bucket, p.key};
    // Multipart.
    if (p.method == "POST" && has("uploads")) {
      ++counts_["create"];
      std::string id = "upload-" + std::to_string(++next_upload_);
      Upload& u = uploads_[id];
      u.bucket = p.bucket;
      u.key = p.key;
      u.content_type = header("content-type").value_or("");
      u.metadata = Metadata(p);
      u.initiated = clock_ ? clock_() : static_cast<int64_t>(std::time(nullptr));
      return Xml("<InitiateMultipartUploadResult><Bucket>" + p.bucket + "</Bucket><Key>" + p.key +
                 "</Key><UploadId>" + id + "</UploadId></InitiateMultipartUploadResult>");
    }
    if (has("uploadId")) {
      auto it = uploads_.find(p.query.at("uploadId"));
      if (it == uploads_.end()) return Error(404, "NoSuchUpload", "no such upload");
      Upload& u = it->second;
      if (p.method == "PUT") {
        int number = std::stoi(p.query.at("partNumber"));
        if (std::optional<std::string> source = header("x-amz-copy-source")) {
          ++counts_["part-copy"];
          std::optional<std::string> data = SourceBytes(*source, header("x-amz-copy-source-range"));
          if (!data) return Error(404, "NoSuchKey", "no such source");
          std::string etag = Md5Hex(*data);
          u.parts[number] = {std::move(*data), etag};
          return Xml("<CopyPartResult><ETag>" + Quote(etag) +
                     "</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
                     "</CopyPartResult>");
        }
        ++counts_["part"];
        if (!md5_ok()) return Error(400, "BadDigest", "Content-MD5 mismatch");
        std::string etag = Md5Hex(body);
        u.parts[number] = {body, etag};
        http::HttpResponse r = ok_empty(200);
        r.headers.Add("ETag", Quote(etag));
        return r;
      }
      if (p.method == "DELETE") {
        ++counts_["abort"];
        uploads_.erase(it);
        return ok_empty(204);
      }
      if (p.method == "GET") {
        std::string xml = "<ListPartsResult><IsTruncated>false</IsTruncated>";
        for (const auto& [n, part] : u.parts) {
          xml += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" +
                 Quote(part.second) + "</ETag><Size>" + std::to_string(part.first.size()) +
                 "</Size></Part>";
        }
        return Xml(xml + "</ListPartsResult>");
      }
      if (p.method == "POST") {
        ++counts_["complete"];
        std::vector<std::pair<int, std::string>> listed;
        size_t at = 0;
        while ((at = body.find("<PartNumber>", at)) != std::string::npos) {
          int n = std::stoi(body.substr(at + 12));
          size_t e = body.find("<ETag>", at);
          size_t e_end = body.find("</ETag>", e);
          listed.emplace_back(n, Unquote(Unescape(body.substr(e + 6, e_end - e - 6))));
          at = e_end;
        }
        std::string data;
        std::string md5s;
        std::vector<uint64_t> sizes;
        for (size_t i = 0; i < listed.size(); ++i) {
          auto part = u.parts.find(listed[i].first);
          if (part == u.parts.end() || part->second.second != listed[i].second) {
            return Error(400, "InvalidPart", "part " + std::to_string(listed[i].first));
          }
          if (i + 1 < listed.size() && part->second.first.size() < min_part_size_) {
            return Error(400, "EntityTooSmall", "part too small");
          }
          data += part->second.first;
          sizes.push_back(part->second.first.size());
          Md5Digest d = Md5Of(part->second.first);
          md5s.append(reinterpret_cast<const char*>(d.data()), d.size());
        }
        Object o;
        o.data = std::move(data);
        o.etag = Md5Hex(md5s) + "-" + std::to_string(listed.size());
        o.content_type = u.content_type;
        o.metadata = u.metadata;
        if (!complete_etag_override_.empty()) o.etag = complete_etag_override_;
        std::string etag = o.etag;
        objects_[{u.bucket, u.key}] = std::move(o);
        part_sizes_[{u.bucket, u.key}] = std::move(sizes);
        uploads_.erase(it);
        return Xml("<CompleteMultipartUploadResult><Bucket>" + p.bucket + "</Bucket><Key>" + p.key +
                   "</Key><ETag>" + Quote(etag) + "</ETag></CompleteMultipartUploadResult>");
      }
    }
    if (p.method == "PUT") {
      if (std::optional<std::string> source = header("x-amz-copy-source")) {
        ++counts_["copy"];
        std::optional<Object> from = SourceObject(*source);
        if (!from) return Error(404, "NoSuchKey", "no such source");
        std::string etag = from->etag;
        objects_[name] = std::move(*from);
        part_sizes_.erase(name);
        return Xml("<CopyObjectResult><ETag>" + Quote(etag) +
                   "</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
                   "</CopyObjectResult>");
      }
      ++counts_["put"];
      if (!md5_ok()) return Error(400, "BadDigest", "Content-MD5 mismatch");
      Object o;
      o.data = body;
      o.etag = Md5Hex(body);
      o.content_type = header("content-type").value_or("");
      o.metadata = Metadata(p);
      std::string etag = o.etag;
      objects_[name] = std::move(o);
      part_sizes_.erase(name);
      http::HttpResponse r = ok_empty(200);
      r.headers.Add("ETag", Quote(etag));
      return r;
    }
    if (p.method == "DELETE") {
      objects_.erase(name);
      part_sizes_.erase(name);
      return ok_empty(204);
    }
    if (p.method == "GET" || p.method == "HEAD") {
      ++counts_[p.method == "GET" ? "get" : "head"];
      auto it = objects_.find(name);
      if (it == objects_.end()) return Error(404, "NoSuchKey", "no such key");
      const Object& o = it->second;
      if (std::optional<std::string> match = header("if-match")) {
        if (Unquote(*match) != o.etag) return Error(412, "PreconditionFailed", "etag changed");
      }
      http::HttpResponse r = ok_empty(200);
      r.headers.Add("ETag", Quote(o.etag));
      r.headers.Add("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT");
      if (!o.content_type.empty()) r.headers.Add("Content-Type", o.content_type);
      for (const auto& [k, v] : o.metadata) r.headers.Add("x-amz-meta-" + k, v);
      uint64_t first = 0;
      uint64_t last = o.data.empty() ? 0 : o.data.size() - 1;
      std::optional<std::string> range = header("range");
      auto sizes_it = part_sizes_.find(name);
      const std::vector<uint64_t> part_sizes =
          sizes_it == part_sizes_.end() ? std::vector<uint64_t>{} : sizes_it->second;
      if (auto n = p.query.find("partNumber");
          n != p.query.end() && honour_part_number_ && !part_sizes.empty()) {
        size_t number = std::stoul(n->second);
        if (number < 1 || number > part_sizes.size()) {
          return Error(416, "InvalidPartNumber", "no such part");
        }
        for (size_t i = 0; i + 1 < number; ++i) first += part_sizes[i];
        last = first + part_sizes[number - 1] - 1;
        r.status_code = 206;
        r.headers.Add("Content-Range", "bytes " + std::to_string(first) + "-" +
                                           std::to_string(last) + "/" +
                                           std::to_string(o.data.size()));
        r.headers.Add("x-amz-mp-parts-count", std::to_string(part_sizes.size()));
      } else if (range && p.method == "GET") {
        size_t dash = range->find('-');
        first = std::stoull(range->substr(6, dash - 6));
        last = std::min<uint64_t>(std::stoull(range->substr(dash + 1)), o.data.size() - 1);
        if (first >= o.data.size()) return Error(416, "InvalidRange", "");
        r.status_code = 206;
        r.headers.Add("Content-Range", "bytes " + std::to_string(first) + "-" +
                                           std::to_string(last) + "/" +
                                           std::to_string(o.data.size()));
      }
      uint64_t length = o.data.empty() ? 0 : last - first + 1;
      r.headers.Add("Content-Length", std::to_string(length));
      if (p.method == "GET") *payload = o.data.substr(first, length);
      return r;
    }
    return Error(405, "MethodNotAllowed", "");
  }

  static std::string Unescape(std::string s) {
    for (auto [from, to] : {std::pair<std::string, std::string>{"&quot;", "\""}, {"&amp;", "&"}}) {
      for (size_t at; (at = s.find(from)) != std::string::npos;) s.replace(at, from.size(), to);
    }
    return s;
  }

  static std::map<std::string, std::string> Metadata(const Parsed& p) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : p.headers) {
      if (k.starts_with("x-amz-meta-")) out[k.substr(11)] = v;
    }
    return out;
  }

  // REQUIRES: mu_ held.
  std::optional<Object> SourceObject(const std::string& source) {
    std::string path = Decode(source);
    if (!path.empty() && path.front() == '/') path.erase(0, 1);
    size_t slash = path.find('/');
    auto it = objects_.find({path.substr(0, slash), path.substr(slash + 1)});
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> SourceBytes(const std::string& source,
                                         const std::optional<std::string>& range) {
    std::optional<Object> o = SourceObject(source);
    if (!o) return std::nullopt;
    if (!range) return o->data;
    size_t dash = range->find('-');
    uint64_t first = std::stoull(range->substr(6, dash - 6));
    uint64_t last = std::stoull(range->substr(dash + 1));
    return o->data.substr(first, last - first + 1);
  }

  static Result<http::HttpResponse> Deliver(http::HttpResponse response, const std::string& payload,
                                            const http::ResponseBody& response_body,
                                            const http::HttpRequest& request) {
    const bool success = response.status_code >= 200 && response.status_code < 300;
    if (!response_body.streamed()) {
      if (success && request.method == "GET" && !payload.empty()) response.body = payload;
      response.body_bytes = response.body.size();
      return response;
    }
    if (response_body.on_headers()) CAIRN_RETURN_IF_ERROR(response_body.on_headers()(response));
    if (!success) {
      response.body_bytes = response.body.size();
      return response;
    }
    for (size_t at = 0; at < payload.size(); at += 256 << 10) {
      std::string_view piece = std::string_view(payload).substr(at, 256 << 10);
      CAIRN_RETURN_IF_ERROR(response_body.sink()(piece));
      response.body_bytes += piece.size();
    }
    return response;
  }

  const uint64_t min_part_size_;
  mutable std::mutex mu_;
  Interceptor interceptor_;                                        // guarded by mu_
  std::map<std::pair<std::string, std::string>, Object> objects_;  // guarded by mu_
  std::map<std::string, Upload> uploads_;                          // guarded by mu_
  std::map<std::string, int> counts_;                              // guarded by mu_
  int next_upload_ = 0;                                            // guarded by mu_
  std::string complete_etag_override_;                             // guarded by mu_
  bool honour_part_number_ = false;                                // guarded by mu_
  // Part sizes of multipart objects (empty: a single PUT or a copy).   guarded by mu_
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> part_sizes_;
  std::function<int64_t()> clock_;  // guarded by mu_
};

}  // namespace cairn::objstore::transfer

#endif  // CAIRN_OBJSTORE_TRANSFER_MEM_S3_H_
