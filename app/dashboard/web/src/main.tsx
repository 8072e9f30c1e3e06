import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";
import { AuthProvider } from "./auth";
import { AppLayout, RequireAuth } from "./layout";
import { AcceptInvitation } from "./pages/AcceptInvitation";
import { Account } from "./pages/Account";
import { ForgotPassword, ResetPassword, VerifyEmail } from "./pages/AccountEmail";
import { Analytics } from "./pages/Analytics";
import { SignIn, SignUp } from "./pages/Auth";
import { Billing } from "./pages/Billing";
import { ChatbotLayout } from "./pages/ChatbotLayout";
import { Chatbots } from "./pages/Chatbots";
import { Conversations } from "./pages/Conversations";
import { Embed } from "./pages/Embed";
import { Keys } from "./pages/Keys";
import { NotFound } from "./pages/NotFound";
import { Playground } from "./pages/Playground";
import { Settings } from "./pages/Settings";
import { Sources } from "./pages/Sources";
import { Team } from "./pages/Team";
import { Usage } from "./pages/Usage";
import "./styles.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter basename="/dashboard">
      <AuthProvider>
        <Routes>
          <Route path="signin" element={<SignIn />} />
          <Route path="signup" element={<SignUp />} />
          <Route path="forgot-password" element={<ForgotPassword />} />
          <Route path="reset-password" element={<ResetPassword />} />
          <Route path="verify-email" element={<VerifyEmail />} />
          <Route path="accept-invitation" element={<AcceptInvitation />} />
          <Route element={<RequireAuth />}>
            <Route element={<AppLayout />}>
              <Route index element={<Navigate to="chatbots" replace />} />
              <Route path="chatbots" element={<Chatbots />} />
              <Route path="chatbots/:botId" element={<ChatbotLayout />}>
                <Route index element={<Navigate to="sources" replace />} />
                <Route path="sources" element={<Sources />} />
                <Route path="playground" element={<Playground />} />
                <Route path="settings" element={<Settings />} />
                <Route path="embed" element={<Embed />} />
                <Route path="conversations" element={<Conversations />} />
                <Route path="conversations/:sessionId" element={<Conversations />} />
                <Route path="analytics" element={<Analytics />} />
                <Route path="keys" element={<Keys />} />
              </Route>
              <Route path="usage" element={<Usage />} />
              <Route path="billing" element={<Billing />} />
              <Route path="team" element={<Team />} />
              <Route path="account" element={<Account />} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Route>
        </Routes>
      </AuthProvider>
    </BrowserRouter>
  </StrictMode>,
);
