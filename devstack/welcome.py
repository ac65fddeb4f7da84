"""Prints where to log in once `make run` has brought the platform up."""

from __future__ import annotations

import json

from devstack.environment import HERE, SERVICES, service_environment, stack_values


def main() -> None:
    env = service_environment()
    values = stack_values()
    demo = json.loads((HERE / "demo-province.json").read_text(encoding="utf-8"))
    agencies = {a["code"]: a["name"] for a in demo["agencies"]}
    print("\nQLVB đã sẵn sàng / QLVB is up — tỉnh minh họa (demo province):", demo["province"])
    print("\nDịch vụ (services):")
    for service in SERVICES:
        port = env[f"QLVB_{service.upper()}_PORT"]
        print(f"  {service:<12} http://localhost:{port}   API: http://localhost:{port}/schema")
    print(
        f"  trục liên thông giả lập (national axis simulator): "
        f"http://127.0.0.1:{values['QLVB_AXIS_SIM_PORT']}"
    )
    issuer = env["QLVB_OIDC_ISSUER"]
    web = env["QLVB_WEB_PUBLIC_URL"]
    print(f"\n>>> Mở trình duyệt, đăng nhập tại (open in a browser and log in): {web}/")
    print(f"  phiên đăng nhập (session): {web}/auth/session")
    print(f"Đăng nhập một lần (Keycloak SSO): {issuer}/account")
    print(
        f"  quản trị Keycloak: http://localhost:{values['QLVB_KEYCLOAK_PORT']}/admin "
        f"({values['QLVB_KEYCLOAK_ADMIN']} / {values['QLVB_KEYCLOAK_ADMIN_PASSWORD']})"
    )
    print(f"\nTài khoản minh họa (demo logins), mật khẩu chung: {values['QLVB_DEMO_PASSWORD']}")
    for user in demo["users"]:
        where = "; ".join(
            f"{', '.join(m['roles'])} @ {agencies[m['agency_code']]}" for m in user["memberships"]
        ) or ", ".join(user.get("platform_roles", []))
        print(f"  {user['username']:<12} {user['title']:<26} {where}")
    print(
        f"Mã PIN ký số minh họa (demo signing PIN, every person and agency seal): "
        f"{demo['signing']['pin']}"
    )
    print("\nLấy mã truy cập để gọi API (token for the API):")
    print(
        f"  curl -s -d grant_type=password -d client_id=qlvb-dev-cli -d username=vanthu "
        f"-d password='{values['QLVB_DEMO_PASSWORD']}' {issuer}/protocol/openid-connect/token"
    )
    print("\nDừng (stop): make stop\n")


if __name__ == "__main__":
    main()
