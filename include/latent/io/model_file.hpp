#ifndef LATENT_IO_MODEL_FILE_HPP
#define LATENT_IO_MODEL_FILE_HPP

// Needs zlib (link ZLIB::ZLIB): the checksum is zlib's crc32.

#include <cstdint>
#include <filesystem>
#include <string>

#include "latent/models/autoencoder.hpp"
#include "latent/models/feed_forward.hpp"
#include "latent/models/supervised.hpp"
#include "latent/models/variational.hpp"

namespace latent::io {

/// Model files: a model's parameters with what they belong to.
///
///   io::save(model, "mnist-ae.bin");          // throws latent::Error if it cannot write
///   io::load(other, "mnist-ae.bin");          // other: a model built the same way
///
/// The file, every integer little-endian, every scalar IEEE-754 little-endian:
///
///   offset      size      field
///   0           8         magic: 0x89 'L' 'A' 'T' 'E' 'N' 'T' 0x0a
///   8           4         format version (model_file_version)
///   12          4         scalar type: 1 float (binary32), 2 double (binary64)
///   16          4         A, the length of the architecture text
///   20          A         the architecture text, architecture(model), no terminator
///   20+A        8         N, the parameter count
///   28+A        N*w       the parameters, model.parameters() in order (w = 4 or 8)
///   28+A+N*w    4         CRC-32 (zlib's crc32) of every byte before it
///
/// The magic's high first byte catches 7-bit transfers, its last a newline translation.
///
/// save writes a temporary file beside `path` (flushed, synced, closed, each checked), then
/// renames it over `path`: whoever reads `path` sees the old file or the new one, never a part
/// of either, even if the process dies midway. A failed save throws latent::Error naming
/// `path`, removes its temporary file and leaves `path` as it was.
///
/// load reads and checks the whole file before it writes a single parameter: magic, version,
/// every size against the file's actual size (a header claiming more is refused before
/// anything is allocated for it), the checksum, then the scalar type and the architecture
/// against the model's. Any difference throws latent::Error naming the file and the problem,
/// and the model is left exactly as it was.
///
/// Right: build the model as it was built when saved (same layers, policies and options; any
///        seed), then load: `Autoencoder model(encoder, decoder, rng, MaskingNoise(0.3)); ...`
/// Wrong: loading into a model with another corruption, penalty, loss, weight decay or scalar
///        type: refused, even though the parameter count may match.
inline constexpr std::uint32_t model_file_version = 1;

/// The text a model file stores to name what its parameters belong to: the model's kind, each
/// layer's name() with its activation's constant and the weights a tied layer shares, and every
/// policy and option that changes what the parameters mean (loss, corruption, penalty,
/// likelihood, weight decay, beta), numbers in their shortest exact form:
///   Autoencoder(encoder=Sequential(Dense<Sigmoid>(4 -> 2)),
///               decoder=Sequential(TiedDense<Sigmoid>(2 -> 4) sharing [0, 8)),
///               loss=BinaryCrossEntropy, corruption=masking(fraction=0.3), penalty=none,
///               weight_decay=0)                                              (one line)
/// Two models whose files may be exchanged have the same architecture. The scalar type is
/// stored apart. For a model type of your own, declare `std::string architecture(const
/// YourModel&)` in your model's namespace (argument-dependent lookup finds it).
template <class Encoder, class Decoder, class Loss, class Corruption, class Penalty>
std::string architecture(const Autoencoder<Encoder, Decoder, Loss, Corruption, Penalty>& model);

template <class Network, class Loss>
std::string architecture(const FeedForward<Network, Loss>& model);

template <class Body, class Decoder, class Likelihood>
std::string architecture(const VariationalAutoencoder<Body, Decoder, Likelihood>& model);

template <class Encoder, class Decoder, class Head, class Loss, class HeadKind>
std::string architecture(const SupervisedAutoencoder<Encoder, Decoder, Head, Loss, HeadKind>& model);

/// Writes model's parameters to `path`, replacing any file there (see the layout above).
/// Model: a model with `Scalar` (float or double), `parameters()` and an architecture().
/// Throws latent::Error, naming `path` and the cause, if the file cannot be written.
template <class Model>
void save(const Model& model, const std::filesystem::path& path);

/// Reads the parameters saved in `path` into model, which must have the architecture and the
/// scalar type of the model that was saved. Throws latent::Error, naming `path` and the
/// difference, for anything else; the model is then unchanged.
template <class Model>
void load(Model& model, const std::filesystem::path& path);

}  // namespace latent::io

#include "latent/io/model_file_impl.hpp"

#endif  // LATENT_IO_MODEL_FILE_HPP
