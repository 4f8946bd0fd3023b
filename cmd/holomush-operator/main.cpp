// `holomush-operator`: reconciles HoloMUSH resources (see holomush/operator/operator.hpp).
#include "holomush/operator/operator.hpp"

int main(int argc, char** argv) { return holomush::op::RunOperator(argc, argv); }
