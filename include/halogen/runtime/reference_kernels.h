// Plain C++ kernels: straightforward loops with float64 accumulation. They define what the fast kernels
// must compute and stay selectable as the "reference" target.
#ifndef HALOGEN_RUNTIME_REFERENCE_KERNELS_H_
#define HALOGEN_RUNTIME_REFERENCE_KERNELS_H_

#include "absl/status/status.h"
#include "halogen/dsl/ops/depthwise_conv_geometry.h"
#include "halogen/dsl/tensor.h"

namespace halogen {

// filter_grad must be a zero-or-garbage tensor of shape [FH, FW, C, M] and the dtype of input; it is
// overwritten. input/out_backprop are laid out as geometry.format says. Taps that fall in the padding
// contribute nothing. Uses scratch of FH*FW*C*M doubles, which the caller accounts for.
absl::Status DepthwiseConv2dNativeBackpropFilterReference(const DepthwiseConvGeometry& geometry,
                                                          const Tensor& input, const Tensor& out_backprop,
                                                          Tensor* filter_grad);

}  // namespace halogen

#endif  // HALOGEN_RUNTIME_REFERENCE_KERNELS_H_
