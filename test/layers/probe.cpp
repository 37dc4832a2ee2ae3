// A probe of the layering (CMakeLists.txt, "layers"): each layer_probe_* target links
// one layer and includes SHOAL_PROBE_HEADER from another. ctest builds them; the ones
// that reach upward or sideways must fail to compile, the control must compile.
#include SHOAL_PROBE_HEADER

int shoal_layer_probe() { return 0; }
