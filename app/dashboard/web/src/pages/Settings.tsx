import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function Settings() {
  useTitle("Settings");
  return <Empty title="Settings">Coming soon.</Empty>;
}
