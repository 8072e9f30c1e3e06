import { useEffect, useState } from "react";
import { Navigate, NavLink, Outlet, useLocation } from "react-router";
import { useAuth } from "./auth";
import { VerifyBanner } from "./pages/AccountEmail";
import { Brand, Loading } from "./ui";

export function RequireAuth() {
  const { me, checking } = useAuth();
  const location = useLocation();
  if (checking) {
    return (
      <main className="center-screen">
        <Loading label="Signing you in…" />
      </main>
    );
  }
  if (!me) return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  return <Outlet />;
}

export function AppLayout() {
  const { me, signOut, can } = useAuth();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  useEffect(() => {
    setMenuOpen(false);
  }, [location.pathname]);
  if (!me) return null;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Brand />
        <button
          type="button"
          className="btn btn-ghost menu-button"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((open) => !open)}
        >
          {menuOpen ? "Close menu" : "Menu"}
        </button>
      </header>
      <nav id="sidebar" className={`sidebar ${menuOpen ? "open" : ""}`} aria-label="Main">
        <Brand className="sidebar-brand" />
        <p className="account" title={me.customer.name}>
          {me.customer.name}
        </p>
        <ul>
          <li>
            <NavLink to="/chatbots">Chatbots</NavLink>
          </li>
          <li>
            <NavLink to="/usage">Usage</NavLink>
          </li>
          {can("billing") && (
            <li>
              <NavLink to="/billing">Billing</NavLink>
            </li>
          )}
          {can("team") && (
            <li>
              <NavLink to="/team">Team</NavLink>
            </li>
          )}
          {can("account") && (
            <li>
              <NavLink to="/account">Account</NavLink>
            </li>
          )}
        </ul>
        <div className="sidebar-footer">
          <p className="who">
            <span className="who-email">{me.email}</span>
            <span className="who-role">{me.role}</span>
          </p>
          <button type="button" className="btn btn-secondary" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <VerifyBanner />
        <Outlet />
      </main>
    </div>
  );
}
