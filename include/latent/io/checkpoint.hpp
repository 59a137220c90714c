#ifndef LATENT_IO_CHECKPOINT_HPP
#define LATENT_IO_CHECKPOINT_HPP

// Needs zlib (link ZLIB::ZLIB), as model files do.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/types.hpp"
#include "latent/io/model_file.hpp"
#include "latent/optim/state.hpp"
#include "latent/train/fit.hpp"
#include "latent/train/history.hpp"

namespace latent::io {

/// Checkpoints: a whole run of fit, saved after every epoch, to resume after a crash.
///
///   io::Checkpoint checkpoint("run.ckpt");
///   fit(model, adam, X, options, rng, checkpoint);   // the same call resumes, after a crash
///
/// Given to fit as a callback, a Checkpoint first looks for its file: if there is one, it
/// restores the run saved there (the model's parameters, the optimizer's state, the engine's
/// state, the sample order and the history) and fit goes on after the last epoch saved; a run
/// that had finished or stopped early returns its history at once. Then it saves the run after
/// every `every` epochs and after the last, through a temporary file renamed over the old one,
/// as io::save does: a crash leaves the last complete checkpoint. A resumed run ends with the
/// parameters, bit for bit, of a run that never stopped, provided the model, optimizer and
/// engine are built as before (their own seeds do not matter: all is restored), the options
/// are the same (`epochs` may grow) and the callbacks keep no state of their own: the
/// checkpoint does not hold EarlyStopping's best epoch, which starts afresh on resume.
///
/// resume checks the whole file before it changes anything, and refuses (latent::Error naming
/// the file and the difference) a file that is damaged or truncated, of a newer format or of
/// another scalar type, model architecture or optimizer class, or made on other data (its
/// shape and CRC-32 are stored), with another batch size or shuffling.
///
/// The file, every integer little-endian, every scalar IEEE-754 little-endian, each text an
/// u32 length and its bytes, each list an u64 count and its entries:
///
///   magic 0x89 'L' 'A' 'T' 'C' 'K' 'P' 0x0a, u32 format version, u32 scalar type (1 float,
///   2 double); architecture text (io::architecture) and the parameters (scalars); optimizer
///   class (text), u64 step count, u32 buffer count, each buffer (scalars); engine state (the
///   text of its operator<<); u64 samples, u64 rows, u32 CRC-32 of the data's bytes, u64 batch
///   size, u32 shuffle; sample order (u64 entries); u32 stopped early, the epochs (for each: u64
///   epoch, binary64 train loss, validation loss, learning rate, seconds, samples per second, u64
///   skipped batches); u32 CRC-32 of every byte before it.
inline constexpr std::uint32_t checkpoint_version = 1;

namespace detail {

inline constexpr unsigned char checkpoint_magic[8] = {0x89, 'L', 'A', 'T', 'C', 'K', 'P', 0x0a};

/// Reads from the bytes of a checkpoint whose checksum has been checked; every read is
/// checked against the end, and every list's count against the bytes left, before any
/// allocation for it.
class Cursor {
 public:
  Cursor(const std::vector<unsigned char>& bytes, std::string who)
      : at_(bytes.data()), end_(bytes.data() + bytes.size()), who_(std::move(who)) {}

  std::uint32_t u32() { return get_u32(take(4)); }
  std::uint64_t u64() { return get_u64(take(8)); }
  double f64() {
    double value;
    get_scalars(take(8), &value, 1);
    return value;
  }
  std::string text() {
    const std::size_t length = count(u32(), 1);
    const unsigned char* bytes = take(length);
    return std::string(reinterpret_cast<const char*>(bytes), length);
  }
  template <class S>
  Vector<S> scalars() {
    const std::size_t n = count(u64(), sizeof(S));
    Vector<S> values(static_cast<Index>(n));
    get_scalars(take(n * sizeof(S)), values.data(), n);
    return values;
  }
  /// A count of entries of `width` bytes each, refused if more than the bytes left.
  std::size_t count(std::uint64_t n, std::size_t width) const {
    if (n > static_cast<std::uint64_t>(end_ - at_) / width)
      throw Error(who_ + "truncated or corrupt: a count of " + std::to_string(n) +
                  " entries exceeds the bytes left");
    return static_cast<std::size_t>(n);
  }
  bool done() const { return at_ == end_; }

 private:
  const unsigned char* take(std::size_t n) {
    if (static_cast<std::size_t>(end_ - at_) < n) throw Error(who_ + "truncated");
    const unsigned char* from = at_;
    at_ += n;
    return from;
  }

  const unsigned char* at_;
  const unsigned char* end_;
  std::string who_;
};

/// CRC-32 of the data's bytes, column by column (a view may have an outer stride).
template <class S>
std::uint32_t data_checksum(const ConstMatrixRef<S>& X) {
  std::uint32_t crc = 0;
  for (Index j = 0; j < X.cols(); ++j)
    crc = crc32_of(reinterpret_cast<const unsigned char*>(X.col(j).data()),
                   static_cast<std::size_t>(X.rows()) * sizeof(S), crc);
  return crc;
}

/// The whole file, or latent::Error naming it.
inline std::vector<unsigned char> read_file(const std::filesystem::path& path, const std::string& who) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) throw Error(who + "cannot read its size: " + error.message());
  if (size > std::numeric_limits<std::size_t>::max()) throw Error(who + "too large for this machine");
  errno = 0;
  File in(std::fopen(path.string().c_str(), "rb"));
  if (!in) throw Error(who + "cannot open it: " + errno_text(errno));
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  if (std::fread(bytes.data(), 1, bytes.size(), in.get()) != bytes.size() ||
      std::fgetc(in.get()) != EOF)
    throw Error(who + "cannot read it whole (it changed while being read?)");
  return bytes;
}

template <class Engine>
std::string engine_text(const Engine& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

}  // namespace detail

/// A fit callback that saves the run to `path` and resumes it from there (see above).
class Checkpoint {
 public:
  /// Saves after every `every` epochs (> 0) and after the last.
  explicit Checkpoint(std::filesystem::path path, Index every = 1)
      : path_(std::move(path)), every_(every) {
    if (every <= 0)
      throw std::invalid_argument("latent::io::Checkpoint: 'every' must be positive, got " +
                                  std::to_string(every));
  }

  const std::filesystem::path& path() const noexcept { return path_; }

  /// If the file exists, restores the run from it and returns the number of epochs it had
  /// done; otherwise changes nothing and returns 0.
  template <class Model, class Optimizer, class Engine>
  Index resume(TrainingRun<Model, Optimizer, Engine>& run);

  /// Writes the run to the file, replacing it, if an `every`-th epoch or the last has ended.
  template <class Model, class Optimizer, class Engine>
  void save(const TrainingRun<Model, Optimizer, Engine>& run);

 private:
  std::string who() const { return "latent::io::Checkpoint: '" + path_.string() + "': "; }
  template <class S>
  std::uint32_t data_checksum(const ConstMatrixRef<S>& X) {
    // Once per fit: resume computes it before the first epoch, and the data stays the same.
    if (!data_checksum_) data_checksum_ = detail::data_checksum(X);
    return *data_checksum_;
  }

  std::filesystem::path path_;
  Index every_;
  std::optional<std::uint32_t> data_checksum_;
};

template <class Model, class Optimizer, class Engine>
void Checkpoint::save(const TrainingRun<Model, Optimizer, Engine>& run) {
  using S = typename Model::Scalar;
  detail::check_model<Model>();
  const History& history = run.history;
  const Index done = static_cast<Index>(history.epochs.size());
  const bool last = history.stopped_early || history.last().epoch + 1 >= run.options.epochs;
  if (!last && done % every_ != 0) return;

  std::vector<unsigned char> bytes(std::begin(detail::checkpoint_magic),
                                   std::end(detail::checkpoint_magic));
  const auto put_text = [&](const std::string& text) {
    if (text.size() > std::numeric_limits<std::uint32_t>::max())
      throw Error(who() + "cannot write a text longer than 4 GiB");
    detail::put_u32(bytes, static_cast<std::uint32_t>(text.size()));
    bytes.insert(bytes.end(), text.begin(), text.end());
  };
  const auto put_scalars = [&](const Vector<S>& values) {
    detail::put_u64(bytes, static_cast<std::uint64_t>(values.size()));
    detail::put_scalars(bytes, values.data(), static_cast<std::size_t>(values.size()));
  };
  const auto put_f64 = [&](double value) { detail::put_scalars(bytes, &value, 1); };

  detail::put_u32(bytes, checkpoint_version);
  detail::put_u32(bytes, detail::scalar_code<S>);
  put_text(architecture(run.model));
  put_scalars(run.model.parameters());
  const OptimizerState<S> state = run.optimizer.state();
  put_text(state.kind);
  detail::put_u64(bytes, static_cast<std::uint64_t>(state.steps));
  detail::put_u32(bytes, static_cast<std::uint32_t>(state.buffers.size()));
  for (const Vector<S>& buffer : state.buffers) put_scalars(buffer);
  put_text(detail::engine_text(run.rng));
  detail::put_u64(bytes, static_cast<std::uint64_t>(run.inputs.cols()));
  detail::put_u64(bytes, static_cast<std::uint64_t>(run.inputs.rows()));
  detail::put_u32(bytes, data_checksum<S>(run.inputs));
  detail::put_u64(bytes, static_cast<std::uint64_t>(run.options.batch_size));
  detail::put_u32(bytes, run.options.shuffle ? 1 : 0);
  detail::put_u64(bytes, run.order.size());
  for (const Index index : run.order) detail::put_u64(bytes, static_cast<std::uint64_t>(index));
  detail::put_u32(bytes, history.stopped_early ? 1 : 0);
  detail::put_u64(bytes, history.epochs.size());
  for (const EpochRecord& record : history.epochs) {
    detail::put_u64(bytes, static_cast<std::uint64_t>(record.epoch));
    put_f64(record.train_loss);
    put_f64(record.validation_loss);
    put_f64(record.learning_rate);
    put_f64(record.seconds);
    put_f64(record.samples_per_second);
    detail::put_u64(bytes, static_cast<std::uint64_t>(record.skipped_batches));
  }
  detail::put_u32(bytes, detail::crc32_of(bytes.data(), bytes.size()));
  detail::replace_file(path_, bytes);
}

template <class Model, class Optimizer, class Engine>
Index Checkpoint::resume(TrainingRun<Model, Optimizer, Engine>& run) {
  using S = typename Model::Scalar;
  detail::check_model<Model>();
  data_checksum_.reset();
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path_, error);
  if (status.type() == std::filesystem::file_type::not_found) return 0;
  if (error) throw Error(who() + "cannot read it: " + error.message());
  if (!std::filesystem::is_regular_file(status)) throw Error(who() + "not a regular file");
  const std::vector<unsigned char> bytes = detail::read_file(path_, who());

  // The frame: magic, version, checksum, scalar type.
  constexpr std::size_t magic = sizeof detail::checkpoint_magic;
  const std::size_t head = std::min(bytes.size(), magic);
  if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(head),
                  detail::checkpoint_magic))
    throw Error(who() + "not a latent checkpoint (it does not begin with the checkpoint magic "
                        "number)");
  if (bytes.size() < magic + 12) throw Error(who() + "truncated");
  const std::uint32_t version = detail::get_u32(bytes.data() + magic);
  if (version > checkpoint_version)
    throw Error(who() + "format version " + std::to_string(version) +
                " is newer than the version " + std::to_string(checkpoint_version) +
                " this build of latent reads");
  const std::uint32_t stored = detail::get_u32(bytes.data() + bytes.size() - 4);
  const std::uint32_t computed = detail::crc32_of(bytes.data(), bytes.size() - 4);
  if (stored != computed)
    throw Error(who() + "checksum mismatch (the file says " + detail::hex32(stored) +
                ", its contents give " + detail::hex32(computed) + "): the file is corrupt");
  if (version == 0) throw Error(who() + "format version 0 does not exist");
  const std::uint32_t scalar = detail::get_u32(bytes.data() + magic + 4);
  if (scalar != detail::scalar_code<S>)
    throw Error(who() + "the run was of " +
                (detail::scalar_width(scalar) ? detail::scalar_name(scalar) : "unknown") +
                " parameters but the model's are " + detail::scalar_name(detail::scalar_code<S>));

  // The fields, checked against this run; nothing of the run changes until all are read.
  const std::vector<unsigned char> body(bytes.begin() + magic + 8, bytes.end() - 4);
  detail::Cursor in(body, who());
  const auto differs = [&](const std::string& what, const auto& file, const auto& here) {
    if (file == here) return;
    std::ostringstream message;
    message << who() << what << " differs: the checkpoint's is " << file << ", this run's "
            << here;
    throw Error(message.str());
  };
  const std::string expected = architecture(std::as_const(run.model));
  const std::string architecture_text = in.text();
  if (architecture_text != expected)
    throw Error(who() + "the checkpoint holds '" + architecture_text + "' but the model is '" +
                expected + "'" + detail::first_difference(architecture_text, expected));
  const Vector<S> parameters = in.template scalars<S>();
  differs("the parameter count", parameters.size(), run.model.parameters().size());

  OptimizerState<S> state;
  state.kind = in.text();
  state.steps = static_cast<std::int64_t>(in.u64());
  state.buffers.resize(in.count(in.u32(), 8));
  for (Vector<S>& buffer : state.buffers) {
    buffer = in.template scalars<S>();
    if (buffer.size() != 0) differs("an optimizer buffer's length", buffer.size(), parameters.size());
  }

  Engine rng = run.rng;
  std::istringstream engine_text(in.text());
  engine_text >> rng;
  if (engine_text.fail() || !(engine_text >> std::ws).eof())
    throw Error(who() + "the random engine's state does not parse");

  differs("the number of samples", in.u64(), static_cast<std::uint64_t>(run.inputs.cols()));
  differs("the number of rows", in.u64(), static_cast<std::uint64_t>(run.inputs.rows()));
  const std::uint32_t checksum = in.u32();
  differs("the data's CRC-32", detail::hex32(checksum), detail::hex32(data_checksum<S>(run.inputs)));
  differs("batch_size", in.u64(), static_cast<std::uint64_t>(run.options.batch_size));
  differs("shuffle", in.u32() != 0, run.options.shuffle);

  std::vector<Index> order(in.count(in.u64(), 8));
  differs("the length of the sample order", order.size(), run.order.size());
  std::vector<bool> seen(order.size(), false);
  for (Index& index : order) {
    const std::uint64_t value = in.u64();
    if (value >= order.size() || seen[static_cast<std::size_t>(value)])
      throw Error(who() + "the sample order is not a permutation: the file is corrupt");
    seen[static_cast<std::size_t>(value)] = true;
    index = static_cast<Index>(value);
  }

  History history;
  history.stopped_early = in.u32() != 0;
  history.epochs.resize(in.count(in.u64(), 56));
  for (std::size_t i = 0; i < history.epochs.size(); ++i) {
    EpochRecord& record = history.epochs[i];
    if (in.u64() != i) throw Error(who() + "the epochs are not numbered 0, 1, ...: the file is corrupt");
    record.epoch = static_cast<Index>(i);
    record.train_loss = in.f64();
    record.validation_loss = in.f64();
    record.learning_rate = in.f64();
    record.seconds = in.f64();
    record.samples_per_second = in.f64();
    record.skipped_batches = static_cast<Index>(in.u64());
  }
  if (history.epochs.empty()) throw Error(who() + "no epoch is recorded: the file is corrupt");
  if (!in.done()) throw Error(who() + "bytes after the last field: the file is corrupt");

  // Restore: the optimizer first, as it may still refuse (another class); nothing below can.
  try {
    run.optimizer.restore(state);
  } catch (const std::invalid_argument& refusal) {
    throw Error(who() + refusal.what());
  }
  run.model.parameters() = parameters;
  run.rng = rng;
  run.order = std::move(order);
  run.history = std::move(history);
  return static_cast<Index>(run.history.epochs.size());
}

}  // namespace latent::io

#endif  // LATENT_IO_CHECKPOINT_HPP
