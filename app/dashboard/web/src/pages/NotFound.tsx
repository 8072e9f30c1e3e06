import { Link } from "react-router";
import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function NotFound() {
  useTitle("Not found");
  return (
    <Empty title="Page not found" action={<Link to="/chatbots">Go to your chatbots</Link>}>
      This page does not exist in the dashboard.
    </Empty>
  );
}
