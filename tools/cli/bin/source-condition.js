// Node module-resolution hook that adds the "@sculpt/source" export condition,
// so workspace packages resolve to their TypeScript sources instead of dist/.
export async function resolve(specifier, context, nextResolve) {
  const conditions = [...(context.conditions ?? []), '@sculpt/source'];
  return nextResolve(specifier, { ...context, conditions });
}
