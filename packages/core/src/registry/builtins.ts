/**
 * Sources of the built-in plugins. Each sculpt package lists its plugins
 * in a manifest module (`@sculpt/<pkg>/plugins`) that names them and loads
 * their code on demand.
 *
 * Core cannot import these packages statically because they depend on core,
 * so the registry imports the manifests with `import()` of a specifier held in
 * a variable, on first use.
 */
export const BUILTIN_MANIFESTS: readonly string[] = [
  '@sculpt/runtime-gpu/plugins',
  '@sculpt/datasets/plugins',
  '@sculpt/pruners/plugins',
  '@sculpt/chaincoder/plugins',
];
