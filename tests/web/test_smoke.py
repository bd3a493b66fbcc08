from tests.conftest import login


def test_home_page_answers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Prochains ateliers" in response.get_data(as_text=True)


def test_beneficiary_logs_in_and_lands_on_their_space(client, factory):
    person = factory.beneficiary(factory.site())
    response = login(client, person.login_id)
    assert response.status_code == 303
    assert response.headers["Location"] == "/mon-espace/"
    assert f"Bonjour {person.first_name}" in client.get("/mon-espace/").get_data(as_text=True)
