// libtorch's default random generator is process-wide: weight initialisation and dropout draw from it, so two
// trainings on parallel test threads would perturb each other's runs and break the bit-exact determinism tests.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
