#ifndef LATENT_IO_MODEL_FILE_IMPL_HPP
#define LATENT_IO_MODEL_FILE_IMPL_HPP

// IWYU pragma: private, include "latent/io/model_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>  // fsync
#endif

#include "latent/core/error.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/describe.hpp"
#include "latent/io/model_file.hpp"
#include "latent/layers/sequential.hpp"

namespace latent::io {
namespace detail {

// ---- Bytes ------------------------------------------------------------------------------------

inline constexpr unsigned char model_file_magic[8] = {0x89, 'L', 'A', 'T', 'E', 'N', 'T', 0x0a};
inline constexpr std::size_t model_file_header = 20;   // magic, version, scalar, text length
inline constexpr std::size_t model_file_overhead = 32;  // the header, count and checksum

inline void put_u32(std::vector<unsigned char>& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<unsigned char>(value >> shift));
}
inline void put_u64(std::vector<unsigned char>& out, std::uint64_t value) {
  for (int shift = 0; shift < 64; shift += 8) out.push_back(static_cast<unsigned char>(value >> shift));
}
inline std::uint32_t get_u32(const unsigned char* in) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | in[i];
  return value;
}
inline std::uint64_t get_u64(const unsigned char* in) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | in[i];
  return value;
}

template <class S>
inline constexpr std::uint32_t scalar_code = std::is_same_v<S, float> ? 1 : 2;

inline std::uint64_t scalar_width(std::uint32_t code) { return code == 1 ? 4 : code == 2 ? 8 : 0; }
inline const char* scalar_name(std::uint32_t code) { return code == 1 ? "float" : "double"; }

// Scalars go through the unsigned integer of their width, so the bytes are little-endian on any
// host whose floats and integers share their byte order (all that C++ compilers target).
template <class S>
using ScalarBits = std::conditional_t<sizeof(S) == 4, std::uint32_t, std::uint64_t>;

template <class S>
void put_scalars(std::vector<unsigned char>& out, const S* values, std::size_t count) {
  std::size_t at = out.size();
  out.resize(at + count * sizeof(S));
  for (std::size_t i = 0; i < count; ++i) {
    ScalarBits<S> bits;
    std::memcpy(&bits, values + i, sizeof bits);
    for (std::size_t b = 0; b < sizeof bits; ++b) out[at++] = static_cast<unsigned char>(bits >> (8 * b));
  }
}

template <class S>
void get_scalars(const unsigned char* in, S* values, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i, in += sizeof(S)) {
    ScalarBits<S> bits = 0;
    for (std::size_t b = sizeof bits; b-- > 0;) bits = static_cast<ScalarBits<S>>((bits << 8) | in[b]);
    std::memcpy(values + i, &bits, sizeof bits);
  }
}

/// zlib's crc32 of [data, data + size), continuing from `crc` (0 to start).
inline std::uint32_t crc32_of(const unsigned char* data, std::size_t size, std::uint32_t crc = 0) {
  uLong value = crc;
  while (size > 0) {  // crc32 takes a uInt length
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(size, std::size_t{1} << 30));
    value = crc32(value, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<std::uint32_t>(value);
}

inline std::string hex32(std::uint32_t value) {
  const char* digits = "0123456789abcdef";
  std::string text = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) text += digits[(value >> shift) & 15];
  return text;
}

inline std::string errno_text(int error) { return std::generic_category().message(error); }

// ---- Architecture text ------------------------------------------------------------------------

template <class Layer, class = void>
struct has_activation : std::false_type {};
template <class Layer>
struct has_activation<Layer, std::void_t<typename Layer::Activation,
                                         decltype(std::declval<const Layer&>().activation())>>
    : std::true_type {};

template <class Layer, class = void>
struct has_ties : std::false_type {};
template <class Layer>
struct has_ties<Layer, std::void_t<decltype(std::declval<const Layer&>().ties(
                           std::declval<std::vector<Segment>&>()))>> : std::true_type {};

/// A layer's name(), with its activation's constant and the arena range of the weights it
/// shares: "Dense<LeakyReLU(slope=0.2)>(4 -> 3)", "TiedDense<Tanh>(3 -> 4) sharing [0, 12)".
/// A layer of another kind may say all of it itself with describe().
template <class Layer>
std::string describe_layer(const Layer& layer) {
  if constexpr (latent::detail::has_describe<Layer>::value) {
    return layer.describe();
  } else {
    std::string text = layer.name();
    if constexpr (has_activation<Layer>::value) {
      using Act = typename Layer::Activation;
      if constexpr (latent::detail::has_describe<Act>::value) {
        // name() says "Dense<LeakyReLU>(...)": the constant goes inside the brackets.
        const std::string plain = std::string("<") + Act::name + ">";
        const std::string full = "<" + layer.activation().describe() + ">";
        const std::size_t at = text.find(plain);
        if (at != std::string::npos) text.replace(at, plain.size(), full);
        else text += " " + full;
      }
    }
    if constexpr (has_ties<Layer>::value) {
      std::vector<Segment> ties;
      layer.ties(ties);
      for (const Segment& tie : ties)
        text += " sharing [" + std::to_string(tie.offset) + ", " +
                std::to_string(tie.offset + tie.size) + ")";
    }
    return text;
  }
}

/// Sequential::name() with each layer described by describe_layer.
template <class... Layers, std::size_t... I>
std::string describe_network(const Sequential<Layers...>& network, std::index_sequence<I...>) {
  std::string text = "Sequential(";
  ((text += (I == 0 ? "" : ", ") + describe_layer(network.template layer<I>())), ...);
  return text + ")";
}
template <class... Layers>
std::string describe_network(const Sequential<Layers...>& network) {
  return describe_network(network, std::index_sequence_for<Layers...>{});
}
template <class Network>
std::string describe_network(const Network& network) {
  return network.name();
}

// ---- Files ------------------------------------------------------------------------------------

struct FileCloser {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// A name for save's temporary file no other writer is using now: a per-process counter, the
// clock, and the address of the counter (which differs between processes under ASLR). fopen's
// "x" mode refuses a name that exists anyway, and save then draws another.
inline std::string temporary_suffix() {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t bits =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  bits ^= static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&counter)) * 0x9e3779b97f4a7c15u;
  bits += counter.fetch_add(1) * 0xbf58476d1ce4e5b9u;
  const char* digits = "0123456789abcdef";
  std::string text = ".tmp-";
  for (int shift = 60; shift >= 0; shift -= 4) text += digits[(bits >> shift) & 15];
  return text;
}

/// Writes `bytes` to a new file beside `path` and renames it over `path`. On any failure the
/// new file is removed and `path` is untouched.
inline void replace_file(const std::filesystem::path& path, const std::vector<unsigned char>& bytes) {
  const auto fail = [&](const std::string& problem) {
    return Error("latent::io::save: cannot write '" + path.string() + "': " + problem);
  };
  if (!path.has_filename()) throw fail("the path names no file");

  std::filesystem::path temporary;
  std::FILE* file = nullptr;
  int error = 0;
  for (int attempt = 0; attempt < 16 && file == nullptr; ++attempt) {
    temporary = path;
    temporary += temporary_suffix();
    errno = 0;
    file = std::fopen(temporary.string().c_str(), "wbx");  // x: create, never reuse
    error = errno;
    if (file == nullptr && error != EEXIST) break;
  }
  if (file == nullptr)
    throw fail("cannot create a temporary file beside it: " + errno_text(error));

  // Each step is checked: a full disk may only show at fflush or fclose.
  errno = 0;
  bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  error = errno;
  const auto check = [&](bool ok) {
    if (written && !ok) {
      written = false;
      error = errno;
    }
  };
  check(std::fflush(file) == 0);
#if defined(__unix__) || defined(__APPLE__)
  // On the disk before the rename, so that a power cut cannot leave the new name on no data.
  check(!written || ::fsync(::fileno(file)) == 0);
#endif
  check(std::fclose(file) == 0);
  std::error_code ignored;
  if (!written) {
    std::filesystem::remove(temporary, ignored);
    throw fail("writing the temporary file failed: " + errno_text(error));
  }
  std::error_code renamed;
  std::filesystem::rename(temporary, path, renamed);
  if (renamed) {
    std::filesystem::remove(temporary, ignored);
    throw fail("cannot rename the temporary file over it: " + renamed.message());
  }
}

/// A model file after every structural check and the checksum, before any comparison with a
/// model.
struct ModelFile {
  std::uint32_t scalar = 0;
  std::string architecture;
  std::uint64_t count = 0;
  std::vector<unsigned char> body;  // everything after the fixed header
  std::size_t parameters_at = 0;    // where the parameters start in body
};

inline ModelFile read_model_file(const std::filesystem::path& path) {
  const auto fail = [&](const std::string& problem) {
    return Error("latent::io::load: '" + path.string() + "': " + problem);
  };
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) throw fail("no such file");
  if (error) throw fail("cannot read it: " + error.message());
  if (!std::filesystem::is_regular_file(status)) throw fail("not a regular file");
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) throw fail("cannot read its size: " + error.message());

  errno = 0;
  File in(std::fopen(path.string().c_str(), "rb"));
  if (!in) throw fail("cannot open it: " + errno_text(errno));
  const auto read = [&](unsigned char* to, std::size_t count) {
    if (std::fread(to, 1, count, in.get()) == count) return;
    if (std::ferror(in.get())) throw fail("cannot read it: " + errno_text(errno));
    throw fail("it became shorter while being read");
  };

  // The fixed header first: a file that is not a model file is refused without reading on.
  unsigned char header[model_file_header];
  const std::size_t head = static_cast<std::size_t>(std::min<std::uintmax_t>(size, model_file_header));
  read(header, head);
  if (std::memcmp(header, model_file_magic, std::min(head, sizeof model_file_magic)) != 0)
    throw fail("not a latent model file (it does not begin with the model file magic number)");
  if (size < model_file_header)
    throw fail("truncated: " + std::to_string(size) + " bytes, fewer than the " +
               std::to_string(model_file_header) + " of the header");
  const std::uint32_t version = get_u32(header + 8);
  if (version > model_file_version)
    throw fail("format version " + std::to_string(version) + " is newer than the version " +
               std::to_string(model_file_version) + " this build of latent reads; load it with a "
               "newer latent");
  if (version == 0) throw fail("format version 0 does not exist: the header is corrupt");
  ModelFile file;
  file.scalar = get_u32(header + 12);
  const std::uint64_t width = scalar_width(file.scalar);
  if (width == 0) throw fail("unknown scalar type code " + std::to_string(file.scalar));
  const std::uint64_t length = get_u32(header + 16);

  // Every size the header claims is checked against the file's actual size before anything is
  // allocated for it: the rest must hold the text, the count and the checksum, then exactly
  // the parameters the count announces.
  const std::uintmax_t rest = size - model_file_header;
  if (rest < length + 12)
    throw fail("truncated: the header announces an architecture text of " +
               std::to_string(length) + " bytes, but the whole file has " +
               std::to_string(size) + " bytes");
  if (rest > std::numeric_limits<std::size_t>::max()) throw fail("too large for this machine");
  file.body.resize(static_cast<std::size_t>(rest));
  read(file.body.data(), file.body.size());
  if (std::fgetc(in.get()) != EOF) throw fail("it became longer while being read");

  const unsigned char* body = file.body.data();
  file.architecture.assign(reinterpret_cast<const char*>(body), static_cast<std::size_t>(length));
  file.count = get_u64(body + length);
  file.parameters_at = static_cast<std::size_t>(length + 8);
  const std::uint64_t room = rest - length - 12;  // between the count and the checksum
  if (file.count > room / width)
    throw fail("truncated: the header announces " + std::to_string(file.count) + " " +
               scalar_name(file.scalar) + " parameters, but " + std::to_string(room) +
               " bytes are left for them");
  if (file.count * width != room)
    throw fail(std::to_string(room - file.count * width) +
               " bytes more than the header announces (trailing data)");

  const std::uint32_t stored = get_u32(body + file.body.size() - 4);
  const std::uint32_t computed =
      crc32_of(body, file.body.size() - 4, crc32_of(header, model_file_header));
  if (stored != computed)
    throw fail("checksum mismatch (the file says " + hex32(stored) + ", its contents give " +
               hex32(computed) + "): the file is corrupt");
  return file;
}

// ---- Models -----------------------------------------------------------------------------------

template <class Model, class = void>
struct has_architecture : std::false_type {};
template <class Model>
struct has_architecture<Model, std::void_t<decltype(architecture(std::declval<const Model&>()))>>
    : std::true_type {};

template <class Model>
constexpr void check_model() {
  using S = typename Model::Scalar;
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                "latent::io: model files hold float or double parameters");
  static_assert(std::numeric_limits<S>::is_iec559,
                "latent::io: model files hold IEEE-754 scalars");
  static_assert(std::is_same_v<decltype(std::declval<Model&>().parameters()), Vector<S>&>,
                "latent::io: the model must have a parameters() returning its Vector<S>&");
  static_assert(has_architecture<Model>::value,
                "latent::io: no architecture(model) for this model type; declare one in the "
                "model's namespace (see io/model_file.hpp)");
}

inline std::string first_difference(const std::string& a, const std::string& b) {
  std::size_t at = 0;
  while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
  return " (they first differ at character " + std::to_string(at) + ")";
}

}  // namespace detail

template <class Encoder, class Decoder, class Loss, class Corruption, class Penalty>
std::string architecture(const Autoencoder<Encoder, Decoder, Loss, Corruption, Penalty>& model) {
  return "Autoencoder(encoder=" + detail::describe_network(model.encoder()) +
         ", decoder=" + detail::describe_network(model.decoder()) + ", loss=" + Loss::name +
         ", corruption=" + latent::detail::describe(model.corruption()) +
         ", penalty=" + latent::detail::describe(model.penalty()) +
         ", weight_decay=" + latent::detail::number_text(model.options().weight_decay) + ")";
}

template <class Network, class Loss>
std::string architecture(const FeedForward<Network, Loss>& model) {
  return "FeedForward(network=" + detail::describe_network(model.network()) +
         ", loss=" + Loss::name +
         ", weight_decay=" + latent::detail::number_text(model.options().weight_decay) + ")";
}

template <class Encoder, class Decoder, class Head, class Loss, class HeadKind>
std::string architecture(const SupervisedAutoencoder<Encoder, Decoder, Head, Loss, HeadKind>& model) {
  return "SupervisedAutoencoder(encoder=" + detail::describe_network(model.encoder()) +
         ", decoder=" + detail::describe_network(model.decoder()) +
         ", head=" + detail::describe_network(model.head()) + ", loss=" + Loss::name +
         ", head_kind=" + HeadKind::name + ", " + model.options().describe() + ")";
}

template <class Body, class Decoder, class Likelihood>
std::string architecture(const VariationalAutoencoder<Body, Decoder, Likelihood>& model) {
  // The two heads are Dense<Identity>(body output -> latent size): the body and the latent
  // size fix them.
  return "VariationalAutoencoder(body=" + detail::describe_network(model.body()) +
         ", latent_size=" + std::to_string(model.latent_size()) +
         ", decoder=" + detail::describe_network(model.decoder()) +
         ", likelihood=" + latent::detail::describe(model.likelihood()) +
         ", beta=" + latent::detail::number_text(model.options().beta) +
         ", weight_decay=" + latent::detail::number_text(model.options().weight_decay) + ")";
}

template <class Model>
void save(const Model& model, const std::filesystem::path& path) {
  detail::check_model<Model>();
  using S = typename Model::Scalar;
  const std::string text = architecture(model);
  if (text.size() > std::numeric_limits<std::uint32_t>::max())
    throw Error("latent::io::save: cannot write '" + path.string() +
                "': the architecture text is longer than 4 GiB");
  const Vector<S>& values = model.parameters();
  const std::size_t count = static_cast<std::size_t>(values.size());

  std::vector<unsigned char> bytes;
  bytes.reserve(detail::model_file_overhead + text.size() + count * sizeof(S));
  bytes.insert(bytes.end(), std::begin(detail::model_file_magic), std::end(detail::model_file_magic));
  detail::put_u32(bytes, model_file_version);
  detail::put_u32(bytes, detail::scalar_code<S>);
  detail::put_u32(bytes, static_cast<std::uint32_t>(text.size()));
  bytes.insert(bytes.end(), text.begin(), text.end());
  detail::put_u64(bytes, count);
  detail::put_scalars(bytes, values.data(), count);
  detail::put_u32(bytes, detail::crc32_of(bytes.data(), bytes.size()));
  detail::replace_file(path, bytes);
}

template <class Model>
void load(Model& model, const std::filesystem::path& path) {
  detail::check_model<Model>();
  using S = typename Model::Scalar;
  const detail::ModelFile file = detail::read_model_file(path);

  // Every difference is named, not only the first.
  const std::string expected = architecture(std::as_const(model));
  std::string difference;
  if (file.scalar != detail::scalar_code<S>)
    difference = std::string("the file holds ") + detail::scalar_name(file.scalar) +
                 " parameters but the model's are " + detail::scalar_name(detail::scalar_code<S>);
  if (file.architecture != expected)
    difference += (difference.empty() ? "the file" : "; it") + std::string(" holds '") +
                  file.architecture + "' but the model is '" + expected + "'" +
                  detail::first_difference(file.architecture, expected);
  if (difference.empty() && file.count != static_cast<std::uint64_t>(model.parameters().size()))
    difference = "the file holds " + std::to_string(file.count) +
                 " parameters but the model has " + std::to_string(model.parameters().size());
  if (!difference.empty())
    throw Error("latent::io::load: '" + path.string() + "': " + difference);

  // Nothing can fail from here: the parameters are written in place, their storage kept.
  detail::get_scalars(file.body.data() + file.parameters_at, model.parameters().data(),
                      static_cast<std::size_t>(file.count));
}

}  // namespace latent::io

#endif  // LATENT_IO_MODEL_FILE_IMPL_HPP
